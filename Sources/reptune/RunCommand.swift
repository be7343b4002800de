import CommandLineSpec
import Engine
import Experiments
import Foundation
import Pipeline

/// `reptune run MANIFEST` and `reptune resume [DIR]`: plan the manifest against the results directory's store,
/// print the plan, run what is not cached with a progress display, and say how to resume after Ctrl-C.
enum RunCommand {
    static func run(_ a: ParsedArguments) throws {
        let path = a.positional[0]
        let manifest: Manifest
        var options = try manifestOptions(datasets: a.string("datasets"))
        options.requireModel = !a.flag("dry-run")
        do {
            manifest = try Manifest.load(from: URL(fileURLWithPath: path), options: options)
        } catch {
            throw CLIError(error.description, exitCode: 1)
        }
        let results = URL(fileURLWithPath: a.string("results") ?? "runs/\(manifest.name)")
        let experiment = ExperimentRun(manifest: manifest, resultsDirectory: results,
                                       options: PlanOptions(only: a.list("only"), force: a.list("force"), engineVersion: EngineVersion.current))
        let dryRun = a.flag("dry-run")
        try verifyDatasets(manifest, results: results, readOnly: dryRun)
        let plan = try experiment.plan(readOnly: dryRun)
        if dryRun { return try printPlan(plan, results: results, json: a.json) }
        try execute(experiment, plan: plan, scheduler: schedulerOptions(a, manifest: manifest), json: a.json)
    }

    /// What `--dry-run` prints: each stage cached, to run or to resume, with its cells and key, why it is computed again,
    /// and the estimate of what it needs (`--json`: one object per stage with `reasons` and `estimate`).
    static func printPlan(_ plan: Plan, results: URL, json: Bool) throws {
        if json {
            struct Estimate: Encodable { var seconds: Double?; var memory_bytes: Int?; var work: String }
            struct Row: Encodable {
                var id: String; var kind: String; var action: String; var cells: Int; var done: Int; var key: String
                var reasons: [String]; var estimate: Estimate?
            }
            let estimates = plan.stages.contains(where: { $0.action.computes }) ? ResourceEstimate.estimate(plan)?.stages ?? [] : []
            return try printJSON(plan.stages.map { s in
                Row(id: s.id, kind: s.spec.kind.rawValue, action: s.action.rawValue, cells: s.cellsTotal, done: s.cellsDone,
                    key: "\(s.key.short)", reasons: s.recomputeReasons,
                    estimate: estimates.first { $0.id == s.id }.map { Estimate(seconds: $0.seconds, memory_bytes: $0.memory?.totalBytes, work: $0.work) })
            })
        }
        print("results: \(results.path)")
        print(plan.description)
        if plan.stages.contains(where: { $0.action.computes }), let estimate = ResourceEstimate.estimate(plan) {
            print(estimate.text)
        }
    }

    static func resume(_ a: ParsedArguments) throws {
        let directory = try StoreCommands.directory(a, consumes: 0)
        let (experiment, resumed) = try ExperimentRun.resuming(directory, run: a.int("run"), engineVersion: EngineVersion.current,
                                                               manifestOptions: try manifestOptions(datasets: a.string("datasets")))
        let json = a.json
        if !json { print("resuming run \(resumed.id) of \(experiment.manifest.name) (\(resumed.status))") }
        let dryRun = a.flag("dry-run")
        try verifyDatasets(experiment.manifest, results: directory, readOnly: dryRun)
        let plan = try experiment.plan(readOnly: dryRun)
        if dryRun { return try printPlan(plan, results: directory, json: json) }
        try execute(experiment, plan: plan, scheduler: schedulerOptions(a, manifest: experiment.manifest), json: json)
    }

    /// Refuses a manifest whose dataset files differ from the repository's descriptors (sha256).
    static func verifyDatasets(_ manifest: Manifest, results: URL, readOnly: Bool) throws {
        let directory = DatasetCatalog.descriptorDirectory(repository: RepositoryLocation.root)
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        let catalog = try DatasetCatalog.load(directory: directory)
        let bad = try DatasetVerification.mismatches(manifest, catalog: catalog) { try ContentDigest.of($0, what: "dataset file") }
        guard bad.isEmpty else { throw CLIError(bad.map(\.description).joined(separator: "\n"), exitCode: 1) }
    }

    /// Manifest options of a command: models searched in the repository too, dataset names resolved through the
    /// repository's descriptors in the mirror `--datasets` / `$REPTUNE_DATA` / … chooses.
    static func manifestOptions(datasets option: String?) throws -> ManifestOptions {
        let repo = RepositoryLocation.root
        let mirror = DatasetMirror.locate(option: option, environment: ProcessInfo.processInfo.environment,
                                          repository: repo)
        let directory = DatasetCatalog.descriptorDirectory(repository: repo)
        let catalog = FileManager.default.fileExists(atPath: directory.path) ? try DatasetCatalog.load(directory: directory) : nil
        return manifestOptions(mirror: mirror, catalog: catalog)
    }

    static func manifestOptions(mirror: DatasetMirror, catalog: DatasetCatalog?) -> ManifestOptions {
        ManifestOptions(modelSearchDirectories: [RepositoryLocation.root],
                        datasets: catalog.map { DatasetLibrary(catalog: $0, mirror: mirror) })
    }

    /// `--jobs`, and the executor `--executor` names with its options (Slurm's over the manifest's `executor.slurm`).
    static func schedulerOptions(_ a: ParsedArguments, manifest: Manifest) throws -> SchedulerOptions {
        var wrapper: String?
        if let given = a.string("worker-wrapper") {
            let path = URL(fileURLWithPath: given).standardizedFileURL.path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw CLIError("--worker-wrapper \(given): expected an executable file, found \(FileManager.default.fileExists(atPath: path) ? "a file that is not executable" : "nothing") at \(path)", exitCode: 2)
            }
            wrapper = path
        }
        let worker = WorkerInvocation(executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
                                      datasets: a.string("datasets"), wrapper: wrapper)
        let executor: Executor
        switch a.string("executor") ?? "local" {
        case "processes":
            executor = .processes(worker, workers: a.int("workers") ?? 2)
        case "slurm":
            let given = SlurmOptions(partition: a.string("slurm-partition"), time: a.string("slurm-time"), mem: a.string("slurm-mem"),
                                     cpusPerTask: a.int("slurm-cpus"), account: a.string("slurm-account"), extra: a.list("slurm-arg"),
                                     unitsPerStage: a.int("workers") ?? 8)
            executor = .slurm(worker, (manifest.slurm ?? SlurmOptions()).overriding(with: given))
        default:
            executor = .local
        }
        return SchedulerOptions(maxConcurrentStages: a.int("jobs") ?? 1, executor: executor,
                                retry: RetryPolicy(attempts: a.int("retries") ?? 3))
    }

    static func execute(_ experiment: ExperimentRun, plan: Plan, scheduler: SchedulerOptions, json: Bool) throws {
        let results = experiment.resultsDirectory
        if !json {
            // Unbuffered, so the plan comes before the progress lines when stdout is a file or a pipe.
            FileHandle.standardOutput.write(Data("results: \(results.path)\n\(plan.description)\n".utf8))
        }
        let cancellation = CancellationFlag()
        let handler = cancellation.installInterruptHandler(
            message: "stopping: \(StageDeclaration.interruptSummary) (Ctrl-C again to quit now); resume with: reptune resume \(results.path)",
            forced: "exiting now; saved progress is kept (resume with: reptune resume \(results.path))")
        let display = ProgressDisplay()
        let started = Date()
        let summary = try experiment.execute(scheduler: scheduler,
                                             cancellation: cancellation, observer: json ? nil : display.observer)
        handler.cancel()
        if json {
            struct Row: Encodable { var id: String; var outcome: String }
            try printJSON(summary.outcomes.map { Row(id: $0.stageID, outcome: "\($0.outcome)") })
        } else {
            print("run \(summary.runID) finished in \(ProgressMeter.duration(Date().timeIntervalSince(started))):")
            print(summary.description)
        }
        if summary.cancelled { throw CLIError("interrupted; resume with: reptune resume \(results.path)", exitCode: 130) }
        if summary.failed { throw CLIError("some stages failed (errors above; `reptune status \(results.path)` lists them)", exitCode: 1) }
    }
}
