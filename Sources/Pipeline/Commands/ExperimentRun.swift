import Foundation

/// What `reptune run` and `reptune resume` do, as a library call: read the manifest (or the one a results
/// directory's latest run stored), plan it against the store, and run the plan with the standard stage runners.
public struct ExperimentRun {
    public var manifest: Manifest
    public var resultsDirectory: URL
    public var options: PlanOptions

    public init(manifest: Manifest, resultsDirectory: URL, options: PlanOptions) {
        self.manifest = manifest
        self.resultsDirectory = resultsDirectory
        self.options = options
    }

    /// The run that continues the latest run stored in `directory`: same manifest text (re-read against its
    /// original directory, so relative paths resolve as before) and the same `--only` selection, without
    /// `--force` (finished cells are kept; only pending and failed ones are computed).
    public static func resuming(_ directory: URL, engineVersion: Int, manifestOptions: ManifestOptions = ManifestOptions()) throws -> ExperimentRun {
        let store = try Store(readOnlyDirectory: directory)
        guard let run = try store.latestRun() else {
            throw PlanError("\(directory.path) holds no run to resume (start one with `reptune run MANIFEST --results \(directory.path)`)")
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
        return ExperimentRun(manifest: manifest, resultsDirectory: directory,
                             options: PlanOptions(only: only, force: [], engineVersion: engineVersion))
    }

    /// The plan against the results directory's store.
    public func plan() throws -> Plan {
        try Planner.plan(manifest, options: options, store: Store(directory: resultsDirectory))
    }

    /// Runs the plan; stages missing a runner in `registry` fail before anything starts.
    public func execute(registry: StageRegistry = .standard, scheduler options: SchedulerOptions = SchedulerOptions(),
                        cancellation: CancellationFlag, observer: RunObserver?) throws -> RunSummary {
        let scheduler = Scheduler(registry: registry, options: options, cancellation: cancellation, observer: observer)
        return try scheduler.run(plan(), in: resultsDirectory)
    }
}
