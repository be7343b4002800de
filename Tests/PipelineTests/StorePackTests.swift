import Foundation
import Testing
import Pipeline
import TestSupport

@Suite("Packing a results directory and restoring left-out artifacts")
struct StorePackTests {
    /// The arith experiment's activations are 3 layers × 4 numbers × 4 bytes = 48 bytes, its vector 12 bytes: a
    /// 20-byte limit leaves the activations out and keeps the vector.
    @Test func packLeavesOutLargeArtifactsAndTheCopyResumesAndReports() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("results"), packed = dir.appendingPathComponent("packed")
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        let expected = try Arith.results(source)

        // A cell in flight in the source (as if a process were computing it) is pending in the pack.
        let store = try Store(directory: source)
        try store.db.run("UPDATE cells SET status = 'running', claimed_pid = 1, claimed_host = 'elsewhere' WHERE cell_index = 4 AND stage_key = (SELECT key FROM stages WHERE stage_id = 'sweep')")
        let report = try StorePack.pack(store, to: packed, maxArtifactBytes: 20)
        #expect(report.artifactsCopied == 1 && report.artifactsLeftOut.count == 1, "\(report)")
        #expect(report.artifactBytesLeftOut == 48 && report.artifactBytesCopied == 12)
        #expect(!FileManager.default.fileExists(atPath: packed.appendingPathComponent("reptune.sqlite-wal").path))
        let copy = try Store(directory: packed)
        #expect(try copy.db.query("SELECT status, claimed_pid FROM cells WHERE cell_index = 4 AND stage_key = (SELECT key FROM stages WHERE stage_id = 'sweep')").first.map { [$0[0].string ?? "", $0[1].int.map(String.init) ?? "nil"] } == ["pending", "nil"])
        #expect(try store.db.query("SELECT status FROM cells WHERE cell_index = 4 AND stage_key = (SELECT key FROM stages WHERE stage_id = 'sweep')").first?[0].string == "running",
                "packing must not touch the source")
        try store.db.run("UPDATE cells SET status = 'done', claimed_pid = NULL, claimed_host = NULL WHERE status = 'running'")

        // The pack finishes the one pending cell and otherwise reuses everything: the activations stay cached
        // although their file is not there, because nothing that runs reads them.
        let log = CallLog()
        let plan = try Arith.plan(dir, results: packed)
        #expect(plan.stage("acts")?.action == .cached && plan.stage("sweep")?.action == .run, "\(plan)")
        try Arith.run(dir, results: packed, registry: Arith.registry(log: log))
        #expect(log.all == ["sweep#4"], "\(log.all)")
        #expect(try Arith.results(packed) == expected)

        // Recomputing the vector needs the activations' file: the activations are computed again, once.
        let forced = try Arith.plan(dir, results: packed, force: ["vec"])
        #expect(forced.stage("acts")?.action == .restore, "\(forced)")
        #expect(forced.description.contains("its artifacts are not here"))
        let again = CallLog()
        try Arith.run(dir, results: packed, registry: Arith.registry(log: again), force: ["vec"])
        #expect(again.count("acts") == 1 && again.count("vec") == 1 && again.count("sweep") == 9, "\(again.all)")
        #expect(try Arith.results(packed) == expected)
        #expect(try Store(directory: packed).missingArtifacts(try #require(forced.stage("acts")).key.hex).isEmpty)

        // Packing again replaces the previous pack whole and leaves no temporary folder behind.
        try StorePack.pack(Store(directory: packed), to: source.appendingPathComponent("../packed2"), maxArtifactBytes: 1 << 20)
        try StorePack.pack(Store(directory: dir.appendingPathComponent("packed2")), to: packed, maxArtifactBytes: 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try Arith.results(packed) == expected)
    }

    @Test func packRefusesItsOwnDirectory() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("results")
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        #expect(throws: StoreError.self) { try StorePack.pack(Store(directory: source), to: source, maxArtifactBytes: 0) }
    }
}
