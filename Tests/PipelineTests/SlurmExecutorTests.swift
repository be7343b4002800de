import Foundation
import Pipeline
import Testing
import TestSupport

/// The local Slurm cluster `scripts/slurm-local.sh` starts (Debian's slurmctld, slurmd and munge on loopback), for
/// the suite below: started once per test process; when it cannot start, the reason the suite skips.
enum LocalSlurm {
    static let directory = ProcessInfo.processInfo.environment["REPTUNE_SLURM_DIR"] ?? "/tmp/reptune-slurm"
    static var environment: [String: String] { ["SLURM_CONF": "\(directory)/slurm.conf"] }

    /// nil when the cluster is up, else why it is not.
    static let problem: String? = {
        guard getuid() == 0 else { return "the local Slurm cluster needs root (slurmd runs jobs as their user)" }
        guard let bash = ["/usr/bin/bash", "/bin/bash"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
              let out = try? CLI.run(executable: URL(fileURLWithPath: bash),
                                     ["scripts/slurm-local.sh", "start", directory]) else { return "bash is missing" }
        return out.status == 0 ? nil : "scripts/slurm-local.sh start failed: \(out.stderr.suffix(400))"
    }()

    static let skip: Comment = "SKIPPED: the local Slurm cluster did not start: \(problem ?? "")"

    /// `squeue -h -j JOB -o %T`: the job's state while slurmctld lists it, else "".
    static func state(_ job: String) -> String {
        (try? CLI.run(executable: URL(fileURLWithPath: "/usr/bin/squeue"), ["-h", "-j", job, "-o", "%T"], environment: environment))?
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}

/// `--executor slurm` on a real one-node cluster: the quickstart (`SlurmSuiteManifest`: experiments/quickstart.json
/// on fewer rows, plus a judge whose endpoint refuses connections) stores the same numbers, generations and artifact
/// sha256 as `--executor local`, cell for cell, and the judge's unit fails three times and fails its cell with the
/// worker's message while the rest of the DAG finishes; the job running the tune `scancel`ed after its coordinator was
/// killed, then `reptune resume`, gives the tuned weights of the uninterrupted run; workers that cannot read the
/// database compute their units from the coordinator's snapshot of it; a second coordinator, a missing
/// `sbatch`, an unknown partition and a results directory the workers cannot see are refused with clear errors.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData),
       .enabled(if: ActAddFiles.present, ActAddFiles.missing),
       .enabled(if: CLI.executable != nil, CLI.missing), .enabled(if: LocalSlurm.problem == nil, LocalSlurm.skip))
struct SlurmExecutorTests {
    static let directory: Result<URL, Error> = Result {
        let dir = try Fixtures.temporaryDirectory("slurm-suite")
        try Data(SlurmSuiteManifest.text(writingTextsTo: dir).utf8).write(to: dir.appendingPathComponent("manifest.json"))
        return dir
    }

    static func reptune(_ args: [String], timeout: TimeInterval = 900, environment: [String: String] = [:]) throws -> CLI.Outcome {
        try CLI.run(args, timeout: timeout, environment: LocalSlurm.environment.merging(environment) { $1 },
                    directory: directory.get())
    }

    /// A `--worker-wrapper` that runs the worker in a mount namespace of its own where `commands` (shell, `$0` the
    /// results directory) have run first.
    static func wrapper(_ name: String, results: URL, _ commands: String) throws -> URL {
        let url = try directory.get().appendingPathComponent(name)
        let quoted = "'" + results.path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        try Data("#!/bin/sh\nexec unshare --mount sh -c '\(commands) && exec \"$@\"' \(quoted) \"$@\"\n".utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    /// Workers that cannot read the live database: every `reptune.sqlite*` file of the results directory covered by
    /// /dev/null (opening it fails: a disk I/O error, or no such table). They read the stage's snapshot instead
    /// (`StoreSnapshot`).
    static func databaseHidden(_ results: URL) throws -> URL {
        try wrapper("hide-database.sh", results: results, #"for f in "$0"/reptune.sqlite*; do mount --bind /dev/null "$f" || exit 1; done"#)
    }

    /// The manifest run with `--executor local` and with `--executor slurm` (two units per stage at most; the workers
    /// with the database hidden).
    static let runs: Result<(local: URL, slurm: URL, slurmRun: CLI.Outcome), Error> = Result {
        let dir = try directory.get()
        let local = try reptune(["run", "manifest.json", "--results", "local"])
        #expect(local.status == 1, "\(local)")
        let results = dir.appendingPathComponent("slurm")
        let slurm = try reptune(["run", "manifest.json", "--results", "slurm", "--executor", "slurm", "--workers", "2",
                                 "--worker-wrapper", databaseHidden(results).path])
        return (dir.appendingPathComponent("local"), results, slurm)
    }

    /// Everything the stages stored, by stage id and cell; `seconds` (wall-clock timings) left out.
    static func stored(_ dir: URL) throws -> [String: [String]] {
        let store = try Store(readOnlyDirectory: dir)
        var out: [String: [String]] = [:]
        for (table, sql) in [
            ("metrics", "SELECT stage_id, cell_index, name, value FROM v_metrics WHERE name <> 'seconds' ORDER BY 1, 2, 3"),
            ("generations", "SELECT stage_id, cell_index, item, prompt, output, score, meta FROM v_generations ORDER BY 1, 2, 3"),
            ("artifacts", "SELECT stage_id, cell_index, name, sha256 FROM v_artifacts ORDER BY 1, 2, 3"),
            ("cells", "SELECT stage_id, cell_index, status, outputs FROM v_cells ORDER BY 1, 2"),
        ] {
            out[table] = try store.db.query(sql).map { row in row.values.map { "\($0)" }.joined(separator: "|") }
        }
        return out
    }

    @Test func theQuickstartThroughSlurmStoresWhatTheLocalRunStores() throws {
        let (local, slurm, outcome) = try Self.runs.get()
        #expect(outcome.status == 1, "only the judge fails: \(outcome)")
        let (a, b) = (try Self.stored(local), try Self.stored(slurm))
        for table in ["metrics", "generations", "artifacts", "cells"] {
            #expect(a[table] == b[table], "\(table) differ")
            #expect(!(a[table] ?? []).isEmpty)
        }
        #expect((a["artifacts"] ?? []).contains { $0.hasPrefix("honesty_tune|0|") })
        // Every quickstart stage stored its cells in both runs.
        for (id, _) in try SlurmSuiteManifest.quickstartStages() {
            #expect((b["cells"] ?? []).contains { $0.hasPrefix("\(id)|") && $0.contains("|done|") }, "\(id) has no done cell")
        }
        // Each stage's cells went out as min(cells, --workers 2) units; every stage but the judge's finished them.
        let store = try Store(readOnlyDirectory: slurm)
        let cellsPerStage = try store.db.query("SELECT stage_id, count(*) FROM v_cells WHERE stage_id <> 'judge_unreachable' GROUP BY stage_id")
            .compactMap { $0[1].int }
        let units = try store.units()
        #expect(units.filter { $0.executor == "slurm" && $0.state == "done" }.count == cellsPerStage.map { min($0, 2) }.reduce(0, +), "\(units)")
        #expect(units.contains { $0.job?.hasSuffix("_1") == true }, "a stage's two units ran as one job array")
        // The workers never read the live database: under their wrapper it cannot be read at all; they read each
        // stage's snapshot, removed once the stage was settled.
        let hidden = try CLI.run(executable: Self.databaseHidden(slurm), [CLI.executable!.path, "query", slurm.path, "SELECT count(*) FROM runs"])
        #expect(hidden.status != 0 && hidden.stderr.contains("SQLite error") && hidden.stderr.contains("\(slurm.path)/reptune.sqlite"), "\(hidden)")
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: slurm.appendingPathComponent("snapshots").path)
        #expect(snapshots.isEmpty, "\(snapshots)")
    }

    @Test func aUnitFailingThreeTimesFailsItsCellWithTheWorkersMessageAndTheDAGGoesOn() throws {
        let (_, slurm, outcome) = try Self.runs.get()
        #expect(outcome.stdout.contains("judge_unreachable: FAILED: cell #0 {}: failed 3 times; last: POST http://127.0.0.1:9/v1/chat/completions failed"), "\(outcome.stdout.suffix(1500))")
        for (id, _) in try SlurmSuiteManifest.quickstartStages() {
            #expect(outcome.stdout.contains("  \(id): done"), "\(id)")
        }
        let judge = try #require(try Store(readOnlyDirectory: slurm).units().last { $0.state == "failed" })
        #expect(judge.attempts == 3 && judge.error?.contains("Couldn't connect") == true, "\(judge)")
        let status = try Self.reptune(["status", "slurm"])
        #expect(status.stdout.contains("units (slurm)") && status.stdout.contains("failed") && status.stdout.contains(judge.job ?? "?"), "\(status.stdout)")
    }

    @Test func scancelOfTheTuneThenResumeGivesTheUninterruptedTunedWeights() throws {
        let (local, _, _) = try Self.runs.get()
        let dir = try Self.directory.get()
        let coordinator = try ChildProcess(try #require(CLI.executable),
                                           ["run", "manifest.json", "--results", "killed", "--executor", "slurm", "--only", "honesty_tune"],
                                           environment: ProcessInfo.processInfo.environment.merging(LocalSlurm.environment) { $1 },
                                           directory: dir)
        var reaped = false
        defer { if !reaped { kill(coordinator.pid, SIGKILL); _ = coordinator.wait(timeout: 60) } }
        let results = dir.appendingPathComponent("killed")
        // Wait for the tune's job to run for a while.
        var job: String?
        let deadline = Date().addingTimeInterval(300)
        while job == nil, Date() < deadline {
            Thread.sleep(forTimeInterval: 1)
            let store = try? Store(readOnlyDirectory: results)
            job = try store?.units().first { u in
                u.state == "running" && (try? store?.stage(u.unit.stageKey)?.stageID) == "honesty_tune"
            }?.job
        }
        let tuneJob = try #require(job, "the tune's job never ran")
        // A second coordinator on the same results directory is refused, naming the first.
        let second = try Self.reptune(["run", "manifest.json", "--results", "killed", "--executor", "slurm", "--only", "honesty_tune"], timeout: 120)
        #expect(second.status != 0 && second.stderr.contains("is being coordinated by run 1") && second.stderr.contains("process \(coordinator.pid)"),
                "\(second)")
        // Wait for the worker's first training step (its progress line in the job's log), so that there is progress
        // to save: a fixed delay is not enough on a loaded machine, where loading the model alone takes seconds.
        let jobLog = results.appendingPathComponent("logs/slurm-\(tuneJob).log")
        let stepDeadline = Date().addingTimeInterval(300)
        while Date() < stepDeadline, !((try? String(contentsOf: jobLog, encoding: .utf8))?.contains(" steps") ?? false) {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let log = (try? String(contentsOf: jobLog, encoding: .utf8)) ?? ""
        try #require(log.split(separator: "\n").contains { $0.hasPrefix("[honesty_tune] ") && $0.hasSuffix(" steps") }, "the tune's first step in \(jobLog.path): \(log)")
        // The coordinator dies; its job keeps running; then the job is cancelled.
        kill(coordinator.pid, SIGKILL)
        _ = coordinator.wait(timeout: 60)
        reaped = true
        #expect(LocalSlurm.state(tuneJob) == "RUNNING", "the job outlives its coordinator")
        _ = try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/scancel"), [tuneJob], environment: LocalSlurm.environment)
        while !LocalSlurm.state(tuneJob).isEmpty { Thread.sleep(forTimeInterval: 0.5) }
        let scratch = results.appendingPathComponent("scratch/tune")
        let saved = (FileManager.default.enumerator(atPath: scratch.path)?.allObjects as? [String]) ?? []
        let cancelledLog = (try? String(contentsOf: jobLog, encoding: .utf8)) ?? ""
        #expect(!saved.isEmpty && cancelledLog.contains("progress saved in"),
                "the cancelled tune saved its progress in \(scratch.path); its log: \(cancelledLog)")

        let resumed = try Self.reptune(["resume", "killed", "--executor", "slurm"])
        #expect(resumed.status == 0, "\(resumed)")
        #expect(resumed.stdout.contains("re-attached to unit 0 (job \(tuneJob))"), "\(resumed.stdout.suffix(2000))")
        let tuned = { (dir: URL) throws -> String? in
            let store = try Store(readOnlyDirectory: dir)
            let key = try #require(try store.stages().first { $0.stageID == "honesty_tune" }).key
            return try store.cells(key).first?.artifacts.values.first?.sha256
        }
        let uninterrupted = try tuned(local)
        let afterResume = try tuned(results)
        #expect(uninterrupted != nil && afterResume == uninterrupted)
        let tune = try Store(readOnlyDirectory: results).units().filter { $0.state == "done" }.last
        #expect(tune?.attempts == 2, "the resumed run retried the cancelled unit once: \(String(describing: tune))")
    }

    /// A results directory the nodes cannot see: the workers run (through `--worker-wrapper`) in a mount namespace of
    /// their own where an empty tmpfs covers the results directory, as on a node that does not mount the shared
    /// storage. The coordinator's probe job does not find the file the coordinator wrote there, and the run stops
    /// before it submits any unit, naming the directory and the probe job; the store, the units and the bundles are as
    /// they were.
    @Test func aResultsDirectoryTheWorkersCannotSeeIsRefusedBeforeAnyUnitIsSubmitted() throws {
        let (_, slurm, _) = try Self.runs.get()
        // A node that does not see the results directory: an empty tmpfs over it.
        let wrapper = try Self.wrapper("hide-results.sh", results: slurm, #"mount -t tmpfs reptune-hidden "$0""#)
        func snapshot() throws -> [String] {
            let store = try Store(readOnlyDirectory: slurm)
            let files = { (sub: String) in
                ((FileManager.default.enumerator(atPath: slurm.appendingPathComponent(sub).path)?.allObjects as? [String]) ?? []).sorted()
            }
            return try Self.stored(slurm).sorted { $0.key < $1.key }.flatMap { [$0.key] + $0.value }
                + store.units().map { "\($0)" } + store.runs().map { "run \($0.id)" } + files("bundles") + files("probe")
                + files("logs").filter { !$0.hasPrefix("probe-") }
        }
        let before = try snapshot()
        // The judge's failed cell is work to do, so the coordinator probes before it would submit its unit.
        let hidden = try Self.reptune(["run", "manifest.json", "--results", "slurm", "--executor", "slurm", "--worker-wrapper", wrapper.path],
                                      timeout: 300)
        #expect(hidden.status != 0, "\(hidden)")
        let job = hidden.stderr.components(separatedBy: "the probe job ").dropFirst().first?.prefix { $0.isNumber } ?? ""
        #expect(!job.isEmpty && hidden.stderr.contains("did not see \(slurm.path)/probe/")
                && hidden.stderr.contains("the results directory must be on storage the compute nodes share"), "\(hidden)")
        // The worker did run, under the wrapper, and looked: its own message, from the namespace where the directory is empty.
        #expect(hidden.stderr.contains("is not visible on"), "\(hidden.stderr)")
        #expect(try snapshot() == before, "nothing was submitted, ingested or changed")
    }

    @Test func missingSbatchAndUnknownPartitionAreClearErrors() throws {
        _ = try Self.runs.get()
        let noSbatch = try Self.reptune(["run", "manifest.json", "--results", "nosbatch", "--executor", "slurm"], timeout: 120,
                                        environment: ["PATH": "/nonexistent"])
        #expect(noSbatch.status != 0 && noSbatch.stderr.contains("--executor slurm needs `sbatch` on PATH"), "\(noSbatch)")
        let partition = try Self.reptune(["run", "manifest.json", "--results", "nopartition", "--executor", "slurm",
                                          "--slurm-partition", "nowhere"], timeout: 120)
        #expect(partition.status != 0 && partition.stderr.contains("Slurm partition nowhere does not exist (this cluster has: local)"), "\(partition)")
    }
}
