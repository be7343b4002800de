import Foundation
import ModelFormats

/// `reptune worker`: computes one unit of work in its own process, on this machine or a cluster node. It finds the
/// unit's stage by planning the manifest of the run that recorded the stage key (so a worker whose files differ from
/// the coordinator's finds no such key and refuses), reads its inputs from the results directory — the database
/// snapshot the coordinator wrote for the stage (`StoreSnapshot`: never the live database), artifacts by sha256 —
/// runs the stage kind's registered runner (the very code the local executor runs), and writes the unit's
/// `ResultBundle` beside the database. It never writes the database: only the coordinator does, when it ingests the
/// bundle. Long cells keep their progress in the results directory's `scratch/` as always (`CellCheckpoint`), so a
/// retried unit continues where a killed one stopped.
public enum UnitWorker {
    /// Computes `unit` (`<stage key>[:<cells>]`) of the results directory `directory` and writes its bundle; returns
    /// it. A runner error fails the cells it reached (and the ones it did not), recorded in the bundle. After a
    /// cancellation (SIGTERM from `scancel`, Ctrl-C) nothing is written and `StageCancelled` is thrown: the saved
    /// progress stays for the retry.
    public static func run(_ unitText: String, in directory: URL, manifestOptions: ManifestOptions, engineVersion: Int,
                           registry: StageRegistry = .standard, cancellation: CancellationFlag = CancellationFlag(),
                           observer: RunObserver? = nil) throws -> ResultBundle {
        let started = Date().timeIntervalSince1970
        let key = String(unitText.prefix { $0 != ":" })
        let store = try StoreSnapshot.open(stageKey: key, in: directory)
        guard let runID = try store.db.query("SELECT run_id FROM run_stages WHERE stage_key = ? ORDER BY run_id DESC LIMIT 1",
                                              [.text(key)]).first?[0].int else {
            throw WorkUnitError("unit \(unitText): no run in \(directory.path) planned a stage with key \(key) (a coordinator records its run's stages before it hands out units)")
        }
        var (experiment, _) = try ExperimentRun.resuming(directory, run: runID, engineVersion: engineVersion, manifestOptions: manifestOptions,
                                                          store: store)
        experiment.options.only = []
        let plan = try Planner.plan(experiment.manifest, options: experiment.options, store: store)
        guard let planned = plan.stages.first(where: { $0.key.hex == key }) else {
            throw WorkUnitError("unit \(unitText): the manifest of run \(runID) plans no stage with key \(key) on \(ProcessInfo.processInfo.hostName): a file it reads (model, dataset) differs here from the coordinator's, or the engine version differs")
        }
        let unit = try WorkUnit(parsing: unitText, allCells: planned.spec.cells.map(\.index))
        let byIndex = Dictionary(uniqueKeysWithValues: planned.spec.cells.map { ($0.index, $0) })
        if let missing = unit.cells.first(where: { byIndex[$0] == nil }) {
            throw WorkUnitError("unit \(unitText): stage \(planned.id) has no cell #\(missing) (it has \(planned.spec.cells.count))")
        }
        guard let runner = registry.runner(for: planned.spec.kind) else {
            throw WorkUnitError("unit \(unitText): no runner is registered for kind \(planned.spec.kind)")
        }
        let byID = Dictionary(plan.stages.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var inputs: [String: [InputStage]] = [:]
        for slot in planned.spec.inputs {
            inputs[slot.slot] = try slot.stages.compactMap { byID[$0] }.map {
                InputStage(stageID: $0.id, kind: $0.spec.kind, key: $0.key.hex, cells: try store.cells($0.key.hex))
            }
        }
        let ledger = UnitLedger(cells: unit.cells.compactMap { byIndex[$0] })
        let context = StageContext(stage: planned.spec, key: key, model: plan.manifest.model, datasets: plan.manifest.datasets,
                                   inputs: inputs, store: store, cancellation: cancellation, claimer: Claimer(), observer: observer,
                                   contentDigests: planned.contentDigests, declaredOutputs: runner.outputs, unit: ledger)
        var failure: Error?
        do { try runner.run(context) } catch { failure = error }
        if failure is StageCancelled || cancellation.isCancelled { throw StageCancelled() }
        try context.settleInFlight(error: failure)
        let reason = failure.map { "not computed: the unit stopped at an earlier cell's error: \($0)" }
            ?? "not computed: the \(planned.spec.kind) runner returned without reaching it"
        for cell in ledger.take(Int.max, among: nil) { ledger.fail(cell, reason) }
        let env = ProcessInfo.processInfo.environment
        let job = env["SLURM_ARRAY_JOB_ID"].flatMap { a in env["SLURM_ARRAY_TASK_ID"].map { "\(a)_\($0)" } } ?? env["SLURM_JOB_ID"]
        let bundle = ResultBundle(unit: unit, results: ledger.results, failures: ledger.failures.map { ($0.cell.index, $0.error) },
                                  worker: WorkerStamp(host: ProcessInfo.processInfo.hostName, pid: Int(getpid()), slurmJob: job,
                                                      startedAt: started, finishedAt: Date().timeIntervalSince1970))
        try bundle.write(in: directory)
        return bundle
    }

    /// The probe a coordinator submits before its first unit: the worker finds `probe/<token>` in the results
    /// directory it was given and answers with `probe/<token>.seen` (naming its host). A node that cannot see the
    /// directory cannot answer.
    public static func answerProbe(_ token: String, in directory: URL) throws {
        let probe = directory.appendingPathComponent("probe/\(token)")
        guard FileManager.default.fileExists(atPath: probe.path) else {
            throw WorkUnitError("probe \(probe.path) is not visible on \(ProcessInfo.processInfo.hostName): the results directory must be on storage every node shares")
        }
        try AtomicFile.write(Data(ProcessInfo.processInfo.hostName.utf8), to: probe.appendingPathExtension("seen"))
    }
}
