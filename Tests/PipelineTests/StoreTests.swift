import Foundation
import Testing
import Synchronization
import Pipeline
import TestSupport

@Suite("SQLite store")
struct StoreTests {
    static func cells(_ n: Int) -> [SweepCell] {
        (0..<n).map { SweepCell(index: $0, coordinates: [JSONMember(key: "i", value: .int($0))]) }
    }

    @Test func createsSchemaWithWALAndMigratesOnce() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let store = try Store(directory: dir)
            #expect(try store.db.userVersion == StoreSchema.version)
            #expect(try store.db.query("PRAGMA journal_mode").first?[0].string == "wal")
            let tables = try store.db.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").compactMap { $0[0].string }
            for t in ["runs", "stages", "run_stages", "cells", "metrics", "generations", "artifacts", "cell_artifacts", "file_digests"]
                + StoreSchema.views.map(\.name) {
                #expect(tables.contains(t), "missing \(t)")
            }
        }
        // Reopening does not re-run migrations (they would fail on existing tables).
        let again = try Store(directory: dir)
        #expect(try again.db.userVersion == StoreSchema.version)
    }

    @Test func refusesANewerSchema() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Store(directory: dir).db.execute("PRAGMA user_version = 999")
        #expect { try Store(directory: dir) } throws: { "\($0)".contains("schema version 999, newer than this reptune's \(StoreSchema.version)") }
    }

    @Test func sqlErrorsNameTheStatementAndSQLitesMessage() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir)
        do {
            try store.db.query("SELECT nope FROM stages")
            Issue.record("bad SQL accepted")
        } catch {
            #expect(error.message == "no such column: nope")
            #expect(error.description.contains("in: SELECT nope FROM stages"))
            #expect(error.description.contains(store.databaseURL.path))
        }
        #expect(throws: SQLiteError.self) { try store.db.query("SELECT ?", []) }
    }

    @Test func transactionsRollBackOnError() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.db.transaction {
                try store.db.run("INSERT INTO file_digests (path, size, mtime, sha256, hashed_at) VALUES ('x', 1, 1, 'h', 1)")
                throw Boom()
            }
        }
        #expect(try store.db.query("SELECT count(*) FROM file_digests").first?[0].int == 0)
    }

    @Test func cellsCommitWithMetricsGenerationsAndArtifacts() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir)
        try store.ensureStage(key: "k1", stageID: "s", kind: .evaluate, paramsJSON: "{}", keyJSON: "{}", cells: Self.cells(3))
        let me = Claimer()
        let claimed = try store.claimCells("k1", limit: 2, claimer: me)
        #expect(claimed.map(\.index) == [0, 1])
        #expect(claimed[1]["i"]?.intValue == 1)
        let payload = Data((0..<1000).map { UInt8($0 % 251) })
        let artifact = try store.writeArtifact(payload)
        #expect(artifact.bytes == 1000)
        #expect(artifact.path == "artifacts/\(artifact.sha256.prefix(2))/\(artifact.sha256)")
        #expect(try store.readArtifact(artifact) == payload)
        // No temporary files remain beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.artifactsDirectory.appendingPathComponent("tmp").path).isEmpty)

        let result = CellResult(metrics: ["honest": 0.81, "nan": .nan], outputs: .object(["n": 200]), artifacts: ["vec": artifact],
                                generations: [Generation(item: 0, prompt: "p", output: "A) True", score: 1)])
        #expect(try store.commitCell("k1", claimed[0], result, claimer: me))
        try store.failCell("k1", claimed[1], error: "out of memory", claimer: me)
        #expect(try store.cellCounts("k1") == CellCounts(pending: 1, running: 0, done: 1, failed: 1))

        let records = try store.cells("k1")
        #expect(records[0].metrics["honest"] == 0.81)
        #expect(records[0].metrics["nan"]?.isNaN == true)
        #expect(records[0].artifacts["vec"] == artifact)
        #expect(records[0].outputs["n"]?.intValue == 200)
        #expect(records[1].error == "out of memory")
        #expect(try store.generations("k1", cell: 0).first?.output == "A) True")
        let view = try store.db.query("SELECT stage_id, name, value FROM v_metrics WHERE name = 'honest'")
        #expect(view.first?["value"].double == 0.81 && view.first?["stage_id"].string == "s")

        // A cell not claimed by us is not committed.
        #expect(try !store.commitCell("k1", claimed[1], result, claimer: Claimer()))

        try store.retryFailedCells("k1")
        #expect(try store.cellCounts("k1").pending == 2)
        try store.resetStage("k1")
        #expect(try store.cellCounts("k1") == CellCounts(pending: 3))
        #expect(try store.db.query("SELECT count(*) FROM metrics").first?[0].int == 0)
    }

    /// Two manifests may plan the same computation under different ids: the views name it as it was last run.
    @Test func aSharedStageIsNamedByItsLatestRegistration() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir)
        try store.ensureStage(key: "k", stageID: "ppl_base", kind: .perplexity, paramsJSON: "{}", keyJSON: "{}", cells: Self.cells(2))
        let me = Claimer()
        let claimed = try store.claimCells("k", limit: 1, claimer: me)
        #expect(try store.commitCell("k", claimed[0], CellResult(metrics: ["perplexity": 21.5]), claimer: me))
        try store.ensureStage(key: "k", stageID: "ppl_slice_base", kind: .perplexity, paramsJSON: "{}", keyJSON: "{}", cells: Self.cells(2))
        #expect(try store.stage("k")?.stageID == "ppl_slice_base")
        #expect(try store.db.query("SELECT DISTINCT stage_id FROM v_cells").map { $0[0].string } == ["ppl_slice_base"])
        // Registering again kept the cells and their results.
        #expect(try store.cellCounts("k") == CellCounts(pending: 1, running: 0, done: 1, failed: 0))
        #expect(try store.cells("k")[0].metrics["perplexity"] == 21.5)
    }

    @Test func claimsOfDeadProcessesAreRecovered() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir)
        try store.ensureStage(key: "k", stageID: "s", kind: .evaluate, paramsJSON: "{}", keyJSON: "{}", cells: Self.cells(4))
        // A process that has exited: run `true` and keep its pid.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = Claimer(pid: p.processIdentifier)
        #expect(try store.claimCells("k", limit: 2, claimer: dead).map(\.index) == [0, 1])
        #expect(try store.cellCounts("k").running == 2)
        // The next claim returns the dead process's cells to pending first, then claims the lowest.
        let alive = Claimer(pid: getppid())   // another process that is alive: the test runner's parent
        #expect(try store.claimCells("k", limit: 1, claimer: alive).map(\.index) == [0])
        // A live claimer keeps its cell.
        #expect(try store.claimCells("k", limit: 10, claimer: Claimer()).map(\.index) == [1, 2, 3])
        // Once leases expire every other claim is recovered.
        store.lease = -1
        #expect(try store.claimCells("k", limit: 10, claimer: Claimer()).map(\.index) == [0, 1, 2, 3])
    }

    @Test func concurrentClaimersNeverDoubleClaim() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let total = 120
        try Store(directory: dir).ensureStage(key: "k", stageID: "s", kind: .steeringSweep, paramsJSON: "{}", keyJSON: "{}",
                                              cells: Self.cells(total))
        let claimedBy = Mutex<[Int: [Int]]>([:])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            do {
                let store = try Store(directory: dir)   // one connection per thread
                let me = Claimer()
                while true {
                    let cells = try store.claimCells("k", limit: 3, claimer: me)
                    if cells.isEmpty { break }
                    for cell in cells {
                        claimedBy.withLock { $0[cell.index, default: []].append(worker) }
                        try store.commitCell("k", cell, CellResult(metrics: ["worker": Double(worker)]), claimer: me)
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let claims = claimedBy.withLock { $0 }
        #expect(claims.count == total)
        #expect(claims.values.allSatisfy { $0.count == 1 }, "a cell was claimed twice")
        let store = try Store(directory: dir)
        #expect(try store.cellCounts("k") == CellCounts(done: total))
        #expect(try store.db.query("SELECT count(*) FROM metrics").first?[0].int == total)
        #expect(try store.db.query("PRAGMA integrity_check").first?[0].string == "ok")
        #expect(try store.db.query("PRAGMA foreign_key_check").isEmpty)
    }

    @Test func fileDigestsAreCachedAndTrackChanges() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir.appendingPathComponent("results"))
        let file = dir.appendingPathComponent("data.txt")
        try Data("abc".utf8).write(to: file)
        // FIPS 180-2 example: SHA-256("abc").
        #expect(try store.digest(of: file) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // A file written this instant is hashed, not cached: it has not settled (ContentKeyTests covers the cache).
        #expect(try store.db.query("SELECT count(*) FROM file_digests").first?[0].int == 0)
        try Data("abcd".utf8).write(to: file)
        #expect(try store.digest(of: file) == "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589")
        let sub = dir.appendingPathComponent("set")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try Data("abc".utf8).write(to: sub.appendingPathComponent("a.txt"))
        let d1 = try store.digest(of: sub)
        try Data("x".utf8).write(to: sub.appendingPathComponent("b.txt"))
        #expect(try store.digest(of: sub) != d1)
    }
}
