import Engine
import Experiments
import Foundation
import Pipeline

/// `reptune run MANIFEST` and `reptune resume [DIR]`: plan the manifest against the results directory's store,
/// print the plan, run what is not cached with a progress display, and say how to resume after Ctrl-C.
enum RunCommand {
    static let spec = Arguments.Spec(
        usage: "run MANIFEST [--results DIR] [--only STAGE,...] [--force STAGE,...] [--dry-run] [--jobs N] [--datasets DIR]",
        summary: "run a manifest's stages as a DAG, reusing every cached stage; --dry-run prints the plan (each stage cached or to run, cells); Ctrl-C stops soon, keeping finished cells and the saved progress of long ones",
        valued: ["results", "only", "force", "jobs", "datasets"], flags: ["dry-run"])

    static let resumeSpec = Arguments.Spec(
        usage: "resume [DIR] [--run N] [--dry-run] [--jobs N] [--datasets DIR]",
        summary: "finish a run of a results directory (default: the only directory under runs/) — run N, else the latest that did not finish, else the latest: same manifest, finished cells kept; --dry-run prints the plan",
        valued: ["jobs", "run", "datasets"], flags: ["dry-run"])

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard let path = a.positional.first else { throw CLIError("give the MANIFEST file") }
        let manifest: Manifest
        var options = try manifestOptions(datasets: a.options["datasets"])
        options.requireModel = !a.flags.contains("dry-run")
        do {
            manifest = try Manifest.load(from: URL(fileURLWithPath: path), options: options)
        } catch {
            throw CLIError(error.description, exitCode: 1)
        }
        let results = URL(fileURLWithPath: a.options["results"] ?? "runs/\(manifest.name)")
        let list = { (name: String) in a.options[name].map { $0.split(separator: ",").map(String.init) } ?? [] }
        let experiment = ExperimentRun(manifest: manifest, resultsDirectory: results,
                                       options: PlanOptions(only: list("only"), force: list("force"), engineVersion: EngineVersion.current))
        let dryRun = a.flags.contains("dry-run")
        try verifyDatasets(manifest, results: results, readOnly: dryRun)
        let plan = try experiment.plan(readOnly: dryRun)
        if dryRun { return try printPlan(plan, results: results, json: a.flags.contains("json")) }
        try execute(experiment, plan: plan, jobs: a.int("jobs", in: 1...64), json: a.flags.contains("json"))
    }

    /// What `--dry-run` prints: each stage cached, to run or to resume, with its cells and key.
    static func printPlan(_ plan: Plan, results: URL, json: Bool) throws {
        if json {
            struct Row: Encodable { var id: String; var kind: String; var action: String; var cells: Int; var done: Int; var key: String }
            return try printJSON(plan.stages.map { Row(id: $0.id, kind: $0.spec.kind.rawValue, action: $0.action.rawValue,
                                                     cells: $0.cellsTotal, done: $0.cellsDone, key: "\($0.key.short)") })
        }
        print("results: \(results.path)")
        print(plan.description)
        if plan.stages.contains(where: { $0.action.computes }), let estimate = ResourceEstimate.estimate(plan) {
            print(estimate.text)
        }
    }

    static func resume(_ args: [String]) throws {
        let a = try resumeSpec.parse(args)
        let directory = try StoreCommands.directory(a, consumes: 0)
        let (experiment, resumed) = try ExperimentRun.resuming(directory, run: a.int("run", in: 1...Int.max), engineVersion: EngineVersion.current,
                                                               manifestOptions: try manifestOptions(datasets: a.options["datasets"]))
        let json = a.flags.contains("json")
        if !json { print("resuming run \(resumed.id) of \(experiment.manifest.name) (\(resumed.status))") }
        let dryRun = a.flags.contains("dry-run")
        try verifyDatasets(experiment.manifest, results: directory, readOnly: dryRun)
        let plan = try experiment.plan(readOnly: dryRun)
        if dryRun { return try printPlan(plan, results: directory, json: json) }
        try execute(experiment, plan: plan, jobs: a.int("jobs", in: 1...64), json: json)
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

    static func execute(_ experiment: ExperimentRun, plan: Plan, jobs: Int?, json: Bool) throws {
        let results = experiment.resultsDirectory
        let concurrent = jobs ?? 1
        if !json {
            // Unbuffered, so the plan comes before the progress lines when stdout is a file or a pipe.
            FileHandle.standardOutput.write(Data("results: \(results.path)\n\(plan.description)\n".utf8))
        }
        let cancellation = CancellationFlag()
        let handler = cancellation.installInterruptHandler(
            message: "stopping: short cells in flight finish; sweep blocks, tuning and perplexity save their progress (Ctrl-C again to quit now); resume with: reptune resume \(results.path)")
        let display = ProgressDisplay()
        let started = Date()
        let summary = try experiment.execute(scheduler: SchedulerOptions(maxConcurrentStages: concurrent),
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
