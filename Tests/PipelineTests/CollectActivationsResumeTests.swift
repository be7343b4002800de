import Engine
import Foundation
import Pipeline
import Synchronization
import Testing
import TestSupport

/// `collect_activations` on SmolLM2 through the scheduler: a cell cancelled during the correct-only check or during
/// the prompt batches saves its progress, stops at once, and the re-run continues at the next batch, storing an
/// activation file with the uninterrupted run's sha256.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct CollectActivationsResumeTests {
    /// 32 statements checked 16 at a time; the pairs of those answered correctly, 4 prompts per batch, 3 blocks.
    static let manifest = """
    {"name": "acts-resume", "model": {"path": "\(Fixtures.defaultModel.path)"},
     "datasets": {"facts": {"path": "\(Fixtures.datasets.path)/facts_true_false/facts_true_false.csv", "splits": {"few": {"rows": [0, 32]}}}},
     "stages": [{"id": "acts", "kind": "collect_activations",
                 "params": {"dataset": "facts:few", "layers": [2, 5, 9], "positions": [-3, "last"], "correct_only": true, "batch_size": 4}}]}
    """

    static func run(_ dir: URL, results: String, cancellation: CancellationFlag = CancellationFlag(),
                    observer: RunObserver? = nil) throws -> RunSummary {
        let manifest = try Manifest.load(from: dir.appendingPathComponent("manifest.json"))
        return try ExperimentRun(manifest: manifest, resultsDirectory: dir.appendingPathComponent(results),
                                 options: PlanOptions(engineVersion: EngineVersion.current))
            .execute(cancellation: cancellation, observer: observer)
    }

    /// The sha256 of the stored activation file (artifacts are named by it).
    static func activationsSHA(_ results: URL) throws -> String {
        let cell = try #require(try StageResults.load(Store(directory: results), stageID: "acts").cells.first)
        return try #require(cell.artifacts["activations"]).sha256
    }

    static func checkpoints(_ results: URL) -> [String] {
        let scratch = results.appendingPathComponent("scratch/collect_activations")
        return ((try? FileManager.default.subpathsOfDirectory(atPath: scratch.path)) ?? []).filter { $0.hasSuffix(".safetensors") }
    }

    /// Runs with a cancellation when `label` progress first reaches `at`, then again to the end; returns the prompts
    /// progress seen by the second run and the seconds from the cancellation to the run's return.
    static func interruptAndResume(_ dir: URL, results: String, label: String, at: Int) throws -> (resumedFrom: Int?, stopSeconds: Double) {
        let cancel = CancellationFlag()
        let cancelledAt = Mutex<Date?>(nil)
        let summary = try run(dir, results: results, cancellation: cancel) { event in
            if case .progress(stageID: "acts", label: label, done: let done, total: _, status: _) = event, done >= at {
                cancelledAt.withLock { if $0 == nil { $0 = Date() } }
                cancel.cancel()
            }
        }
        let stopSeconds = Date().timeIntervalSince(try #require(cancelledAt.withLock { $0 }))
        #expect(summary.outcome("acts") == .cancelled, "\(summary)")
        #expect(checkpoints(dir.appendingPathComponent(results)).count == 1)
        let first = Mutex<Int?>(nil)
        let resumed = try run(dir, results: results) { event in
            if case .progress(stageID: "acts", label: label, done: let done, total: _, status: _) = event {
                first.withLock { if $0 == nil { $0 = done } }
            }
        }
        #expect(resumed.outcome("acts") == .computed(cells: 1), "\(resumed)")
        #expect(checkpoints(dir.appendingPathComponent(results)).isEmpty)
        return (first.withLock { $0 }, stopSeconds)
    }

    @Test func aCancelledCollectionResumesAtItsNextBatchToTheSameFile() throws {
        let dir = try Fixtures.temporaryDirectory("acts-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        let reference = try Self.run(dir, results: "reference")
        #expect(reference.outcome("acts") == .computed(cells: 1), "\(reference)")
        let sha = try Self.activationsSHA(dir.appendingPathComponent("reference"))

        // Stopped after 8 prompts: the re-run's first batch starts at prompt 8.
        let prompts = try Self.interruptAndResume(dir, results: "prompts", label: "prompts", at: 8)
        #expect(prompts.resumedFrom == 8)
        #expect(prompts.stopSeconds < 10)
        #expect(try Self.activationsSHA(dir.appendingPathComponent("prompts")) == sha)

        // Stopped during the correct-only check after 16 statements: the re-run answers from statement 16 on.
        let answers = try Self.interruptAndResume(dir, results: "answers", label: "statements", at: 16)
        #expect(answers.resumedFrom == 16)
        #expect(answers.stopSeconds < 10)
        #expect(try Self.activationsSHA(dir.appendingPathComponent("answers")) == sha)
    }
}
