import Foundation
import Pipeline
import Synchronization
import Testing
import TestSupport

/// Two runners on one results directory: a cell's claim is kept while its runner's heartbeat renews the lease, and
/// taken over by the other runner once a stalled runner's lease runs out — the stalled runner's late result is then
/// not stored.
@Suite("Claim leases", .serialized)
struct ClaimLeaseTests {
    /// The arith registry with a perplexity runner that claims its cell, logs it, works `seconds` and stores `value`.
    static func registry(value: Double, seconds: Double, log: CallLog) -> StageRegistry {
        var r = Arith.registry(log: CallLog())
        r.register(.perplexity, StageRunner { context in
            while let cell = try context.nextCells(1).first {
                log.add("\(context.stage.id)#\(cell.index)")
                Thread.sleep(forTimeInterval: seconds)
                try context.commit(cell, CellResult(metrics: ["perplexity": value]))
            }
        })
        return r
    }

    static func stored(_ dir: URL) throws -> Double? {
        try StageResults.load(Store(directory: dir.appendingPathComponent("results")), stageID: "ppl").cells.first?.metrics["perplexity"]
    }

    /// Runs a first runner (heartbeat every `heartbeat` seconds, computing for 2.5 s) and, once it holds the cell, a
    /// second one that takes over claims not renewed for 1 s. Returns the cells each computed and the stored value.
    static func race(firstHeartbeat heartbeat: TimeInterval) throws -> (first: Int, second: Int, stored: Double?, summary: RunSummary) {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = CallLog(), second = CallLog()
        let failure = Mutex<String?>(nil)
        let a = Thread {
            do {
                try Arith.run(dir, registry: registry(value: 1, seconds: 2.5, log: first), only: ["ppl"],
                              options: SchedulerOptions(heartbeatInterval: heartbeat))
            } catch { failure.withLock { $0 = "\(error)" } }
        }
        a.start()
        let deadline = Date().addingTimeInterval(30)
        while first.count("ppl") == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let summary = try Arith.run(dir, registry: registry(value: 2, seconds: 0, log: second), only: ["ppl"],
                                    options: SchedulerOptions(pollInterval: 0.05, lease: 1))
        while a.isExecuting, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(failure.withLock { $0 } == nil)
        return (first.count("ppl"), second.count("ppl"), try stored(dir), summary)
    }

    @Test func aRenewedLeaseKeepsTheCellWithItsRunner() throws {
        let (first, second, stored, summary) = try Self.race(firstHeartbeat: 0.1)
        #expect(first == 1 && second == 0)
        #expect(stored == 1)
        #expect(summary.outcome("ppl") == .computed(cells: 0), "\(summary)")
    }

    @Test func aStalledRunnersCellIsTakenOverAfterItsLease() throws {
        // The first runner's heartbeat does not beat within the test: it stalls as far as its lease is concerned.
        let (first, second, stored, summary) = try Self.race(firstHeartbeat: 600)
        #expect(first == 1 && second == 1)
        #expect(stored == 2, "the second runner's result is stored; the stalled runner's late commit is not")
        #expect(summary.outcome("ppl") == .computed(cells: 1), "\(summary)")
    }
}
