import Foundation
import Testing
import Pipeline
import TestSupport

/// A sweep process killed with SIGKILL mid-run, then resumed, must give results byte-identical to an
/// uninterrupted run. The sweep runs in a child process: this test binary, re-run to execute only `sweepWorker`.
@Suite("SIGKILL and resume", .serialized)
struct KillResumeTests {
    static let workerVariable = "REPTUNE_SWEEP_WORKER_DIR"
    static let manifest = Arith.manifest(multipliers: "{\"range\": [-10, 10, 1]}")   // 3 layers × 21 = 63 cells

    @Test(.enabled(if: ProcessInfo.processInfo.environment[workerVariable] != nil,
                   "helper process for sweepKilledWithSIGKILLResumesToIdenticalResults; runs only when that test spawns it"))
    func sweepWorker() throws {
        let dir = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment[Self.workerVariable]))
        try Arith.run(dir, registry: Arith.registry(log: CallLog(), delay: 0.03))
    }

    static var testBinary: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    @Test func sweepKilledWithSIGKILLResumesToIdenticalResults() throws {
        let dir = try Arith.experiment(Self.manifest)
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = dir.appendingPathComponent("reference")
        try Arith.run(dir, results: reference, registry: Arith.registry(log: CallLog()))
        let results = dir.appendingPathComponent("results")

        let child = Process()
        child.executableURL = URL(fileURLWithPath: Self.testBinary)
        child.arguments = ["--testing-library", "swift-testing", "--filter", "sweepWorker"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.workerVariable: dir.path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        // Wait until the child has committed some sweep cells, then kill it without warning.
        var doneBeforeKill = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, child.isRunning {
            if FileManager.default.fileExists(atPath: results.appendingPathComponent(Store.databaseName).path),
               let store = try? Store(directory: results),
               let n = try? store.db.query("SELECT count(*) FROM v_cells WHERE stage_id = 'sweep' AND status = 'done'").first?[0].int,
               n >= 8 {
                doneBeforeKill = n
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        try #require(child.isRunning, "the worker finished or died before it could be killed")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)

        let store = try Store(directory: results)
        let sweepKey = try #require(try Arith.plan(dir).stage("sweep")).key.hex
        let atKill = try store.cellCounts(sweepKey)
        #expect(atKill.done >= doneBeforeKill && atKill.done < 63, "\(atKill)")
        #expect(try store.db.query("PRAGMA integrity_check").first?[0].string == "ok")

        // The killed run reads as interrupted (issue 22, case 8: it stayed "running" forever), before anything opens
        // the store for writing.
        let killed = try #require(try Store(readOnlyDirectory: results).runs().last)
        #expect(killed.status == "running" && killed.liveStatus == "interrupted", "\(killed)")
        #expect(try RunStatus.load(Store(readOnlyDirectory: results)).description.contains(": interrupted, started"))

        // Resume (the dead process's claims are recovered) and compare with the uninterrupted run; the resume
        // continues the killed run instead of adding one.
        let log = CallLog()
        let (resume, continued) = try ExperimentRun.resuming(results, engineVersion: 1)
        #expect(continued.id == killed.id)
        let summary = try resume.execute(registry: Arith.registry(log: log), cancellation: CancellationFlag(), observer: nil)
        #expect(!summary.failed && !summary.cancelled, "\(summary)")
        #expect(summary.runID == killed.id)
        #expect(log.count("sweep") == 63 - atKill.done)
        #expect(try Arith.results(results) == Arith.results(reference))
        let runs = try Store(readOnlyDirectory: results).runs()
        #expect(runs.count == 1 && runs[0].status == "done" && runs[0].resumes == 1, "\(runs)")
    }
}
