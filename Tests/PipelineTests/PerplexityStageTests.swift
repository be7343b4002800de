import Engine
import Experiments
import Foundation
import ModelFormats
import Pipeline
import Synchronization
import Testing
import TestSupport

/// The `perplexity` runner through the scheduler on SmolLM2: a cell cancelled part-way saves its running sums and
/// the re-run continues at the next window, ending with the uninterrupted run's perplexity to the bit.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct PerplexityStageTests {
    /// 2 streams × 10 windows of 64 tokens (stride 32) over the first 642 tokens of wikitext.
    static let manifest = """
    {"name": "ppl-resume", "model": {"path": "\(Fixtures.defaultModel.path)"},
     "datasets": {"wiki": "\(Fixtures.datasets.path)/wikitext-2-raw/wiki.test.raw"},
     "stages": [{"id": "ppl", "kind": "perplexity", "params": {"dataset": "wiki", "window": 64, "stride": 32, "max_tokens": 640}}]}
    """

    static func experiment() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("ppl-resume")
        try Data(manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        return dir
    }

    /// The manifest in `dir` with results in `dir/results`, through the standard stage runners.
    static func experimentRun(_ dir: URL, results: String = "results") throws -> ExperimentRun {
        try ExperimentRun(manifest: Manifest.load(from: dir.appendingPathComponent("manifest.json")),
                          resultsDirectory: dir.appendingPathComponent(results), options: PlanOptions(engineVersion: EngineVersion.current))
    }

    @discardableResult
    static func run(_ dir: URL, results: String = "results", cancellation: CancellationFlag = CancellationFlag(),
                    observer: RunObserver? = nil) throws -> RunSummary {
        try experimentRun(dir, results: results).execute(cancellation: cancellation, observer: observer)
    }

    static func metrics(_ resultsDir: URL) throws -> [String: Double] {
        try #require(try StageResults.load(Store(directory: resultsDir), stageID: "ppl").cells.first).metrics
    }

    static func checkpoints(_ resultsDir: URL) -> [String] {
        let scratch = resultsDir.appendingPathComponent("scratch/perplexity")
        return ((try? FileManager.default.subpathsOfDirectory(atPath: scratch.path)) ?? []).filter { $0.hasSuffix(".json") }
    }

    @Test func aCancelledCellResumesAtItsNextWindowToTheSameBits() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run(dir, results: "reference")
        let reference = try Self.metrics(dir.appendingPathComponent("reference"))
        #expect(reference["tokens"] == 640)  // the budget: 642 tokens in two streams of 321, all but their first scored

        // Cancel after window 6 (batches of two): the runner saves the tally and gives the cell back.
        let cancel = CancellationFlag()
        let seen = Mutex<[Int]>([])
        let results = dir.appendingPathComponent("results")
        let interrupted = try Self.run(dir, cancellation: cancel) { event in
            if case .progress(stageID: "ppl", label: "windows", done: let done, total: _, status: _) = event {
                seen.withLock { $0.append(done) }
                if done == 6 { cancel.cancel() }
            }
        }
        #expect(interrupted.outcome("ppl") == .cancelled, "\(interrupted)")
        #expect(seen.withLock { $0 } == [0, 2, 4, 6])
        #expect(Self.checkpoints(results).count == 1)

        // The re-run starts at window 6, scores the rest, and removes the checkpoint once the cell is stored.
        seen.withLock { $0 = [] }
        let resumed = try Self.run(dir) { event in
            if case .progress(stageID: "ppl", label: "windows", done: let done, total: _, status: _) = event { seen.withLock { $0.append(done) } }
        }
        #expect(resumed.outcome("ppl") == .computed(cells: 1), "\(resumed)")
        #expect(seen.withLock { $0 } == [6, 8, 10, 12, 14, 16, 18, 20])
        let metrics = try Self.metrics(results)
        #expect(metrics["nll"] == reference["nll"] && metrics["tokens"] == reference["tokens"])
        #expect(metrics["perplexity"] == reference["perplexity"])
        #expect(Self.checkpoints(results).isEmpty)
    }

    @Test func aCheckpointThatDoesNotFitTheCellIsIgnored() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run(dir, results: "reference")
        let reference = try Self.metrics(dir.appendingPathComponent("reference"))

        // A planted checkpoint for the same key and cell but another window count must not be trusted.
        let results = dir.appendingPathComponent("results")
        let key = try #require(try Self.experimentRun(dir).plan().stage("ppl")).key.hex
        let file = results.appendingPathComponent("scratch/perplexity/\(key)/cell-0.json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(#"{"windowsTotal": 99, "tokens": 642, "tally": {"windows": 10, "tokensScored": 310, "negativeLogLikelihood": 1}}"#.utf8)
            .write(to: file)
        let logs = Mutex<[String]>([])
        try Self.run(dir) { event in
            if case .log(stageID: "ppl", message: let m) = event { logs.withLock { $0.append(m) } }
        }
        #expect(logs.withLock { $0 }.contains { $0.hasPrefix("starting over") }, "\(logs.withLock { $0 })")
        #expect(try Self.metrics(results)["nll"] == reference["nll"])
        #expect(Self.checkpoints(results).isEmpty)
    }
}
