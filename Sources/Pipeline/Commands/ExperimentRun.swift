import Foundation

/// What `reptune run` and `reptune resume` do, as a library call: read the manifest (or the one a results
/// directory's latest run stored), plan it against the store, and run the plan with the standard stage runners.
public struct ExperimentRun {
    public var manifest: Manifest
    public var resultsDirectory: URL
    public var options: PlanOptions
    /// The stored run this one takes up again (`reptune resume`): executing continues that run rather than
    /// recording a new one.
    public var continuing: Int?

    public init(manifest: Manifest, resultsDirectory: URL, options: PlanOptions, continuing: Int? = nil) {
        self.manifest = manifest
        self.resultsDirectory = resultsDirectory
        self.options = options
        self.continuing = continuing
    }

    /// The run that continues a run stored in `directory`: `run` when given, else the latest run that did not
    /// finish (interrupted, failed or killed), else the latest run. Same manifest text (re-read against its original
    /// directory, so relative paths resolve as before) and the same `--only` selection, without `--force` (finished
    /// cells are kept; only pending and failed ones are computed). Also returns the run continued.
    public static func resuming(_ directory: URL, run id: Int? = nil, engineVersion: Int,
                                manifestOptions: ManifestOptions = ManifestOptions(), store: Store? = nil) throws -> (ExperimentRun, RunRecord) {
        let runs = try (store ?? Store(readOnlyDirectory: directory)).runs()
        guard let last = runs.last else {
            throw PlanError("\(directory.path) holds no run to resume (start one with `reptune run MANIFEST --results \(directory.path)`)")
        }
        let run: RunRecord
        if let id {
            guard let chosen = runs.first(where: { $0.id == id }) else {
                throw PlanError("\(directory.path) has no run \(id) (runs: \(runs.map { String($0.id) }.joined(separator: ", ")); see `reptune query \(directory.path) 'select * from v_runs'`)")
            }
            run = chosen
        } else {
            run = runs.last { $0.status != "done" } ?? last
        }
        let file = run.manifestPath.map { URL(fileURLWithPath: $0) }
        let manifest: Manifest
        do {
            manifest = try Manifest.decode(run.manifestText, file: file, baseDirectory: URL(fileURLWithPath: run.baseDirectory),
                                           options: manifestOptions)
        } catch {
            throw PlanError("the manifest stored with run \(run.id) no longer validates:\n\(error)")
        }
        let only = (try? JSONParser.parse(run.optionsJSON))?["only"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return (ExperimentRun(manifest: manifest, resultsDirectory: directory,
                              options: PlanOptions(only: only, force: [], engineVersion: engineVersion), continuing: run.id), run)
    }

    /// The plan against the results directory's store. A dry run (`readOnly`) reads the store without creating or
    /// changing anything, not even the digest cache.
    public func plan(readOnly: Bool = false) throws -> Plan {
        try Planner.plan(manifest, options: options,
                         store: readOnly ? Store.forPlanning(resultsDirectory) : Store(directory: resultsDirectory))
    }

    /// Runs the plan; stages missing a runner in `registry` fail before anything starts.
    public func execute(registry: StageRegistry = .standard, scheduler options: SchedulerOptions = SchedulerOptions(),
                        cancellation: CancellationFlag, observer: RunObserver?) throws -> RunSummary {
        let scheduler = Scheduler(registry: registry, options: options, cancellation: cancellation, observer: observer)
        return try scheduler.run(plan(), in: resultsDirectory, continuing: continuing)
    }
}
