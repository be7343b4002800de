import Engine
import Experiments
import Foundation
import ModelFormats
import Pipeline
import Synchronization
import Testing
import TestSupport

/// Where the ActAdd files are in the dataset mirror.
enum ActAddFiles {
    static let folder = Fixtures.datasets.appendingPathComponent("actadd")
    static var present: Bool { FileManager.default.fileExists(atPath: folder.appendingPathComponent("scripts/prompts.txt").path) }
    static let missing: Comment = "SKIPPED: the ActAdd files are not in the dataset mirror — run `reptune datasets fetch actadd`"
}

/// The `actadd_topic` runner through the scheduler on SmolLM2: stored metrics are the FORMAT.md count of the stored
/// completions, a cell cancelled after its first prompt resumes at the next one with an uninterrupted run's
/// completions, and bad input (an empty pair, an unknown leading token, a coefficient that overflows) fails with
/// an error naming the field or the cell, storing nothing.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: ActAddFiles.present, ActAddFiles.missing))
struct ActAddTopicStageTests {
    static let actadd = ActAddFiles.folder

    /// Two prompts (rows 3 and 5) × 3 samples of 6 tokens, block 16 × coefficient 4, and the baseline.
    static func manifest(params: String = #""layers": [16], "coefficients": [4]"#) -> String {
        """
        {"name": "actadd-resume", "model": {"path": "\(Fixtures.defaultModel.path)"},
         "datasets": {"prompts": {"path": "\(actadd.path)/scripts/prompts.txt", "splits": {"two": {"indices": [3, 5]}}},
                      "wedding": "\(actadd.path)/data/chatgpt_wedding_essay_20230423.txt"},
         "stages": [{"id": "topic", "kind": "actadd_topic",
                     "params": {"plus": " weddings", "leading_token": "<|endoftext|>", "prompts": "prompts:two",
                                "samples_per_prompt": 3, "max_new_tokens": 6, "on_topic_text": "wedding", \(params)}}]}
        """
    }

    static func experiment(_ text: String = manifest()) throws -> URL {
        let dir = try Fixtures.temporaryDirectory("actadd-resume")
        try Data(text.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        return dir
    }

    @discardableResult
    static func run(_ dir: URL, results: String = "results", cancellation: CancellationFlag = CancellationFlag(),
                    observer: RunObserver? = nil) throws -> RunSummary {
        try ExperimentRun(manifest: Manifest.load(from: dir.appendingPathComponent("manifest.json")),
                          resultsDirectory: dir.appendingPathComponent(results), options: PlanOptions(engineVersion: EngineVersion.current))
            .execute(cancellation: cancellation, observer: observer)
    }

    /// Per cell index: coordinates, metrics and stored completions (item, prompt, output, score).
    static func cells(_ resultsDir: URL) throws -> [Int: (coordinates: JSONValue, metrics: [String: Double], generations: [Generation])] {
        let store = try Store(directory: resultsDir)
        let results = try StageResults.load(store, stageID: "topic")
        var out = [Int: (coordinates: JSONValue, metrics: [String: Double], generations: [Generation])]()
        for cell in results.cells where cell.status == .done {
            out[cell.index] = (cell.coordinates, cell.metrics, try store.generations(results.key, cell: cell.index))
        }
        return out
    }

    static func checkpoints(_ resultsDir: URL) -> [String] {
        let scratch = resultsDir.appendingPathComponent("scratch/actadd_topic")
        return ((try? FileManager.default.subpathsOfDirectory(atPath: scratch.path)) ?? []).filter { $0.hasSuffix(".json") }
    }

    @Test func metricsCountTheStoredCompletionsAndACancelledCellResumes() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run(dir, results: "reference")
        let reference = try Self.cells(dir.appendingPathComponent("reference"))
        // The grid cell and the baseline cell.
        #expect(reference.count == 2)
        let baseline = try #require(reference.values.first { $0.coordinates["baseline"]?.boolValue == true })
        let steered = try #require(reference.values.first { $0.coordinates["layer"]?.intValue == 16 })
        for cell in [baseline, steered] {
            #expect(cell.generations.count == 6 && cell.metrics["samples"] == 6)
            #expect(cell.generations.map(\.item) == Array(0..<6))
            #expect(cell.generations.map { $0.meta?["prompt_row"]?.intValue } == [3, 3, 3, 5, 5, 5])
            #expect(cell.generations.map { $0.meta?["sample"]?.intValue } == [0, 1, 2, 0, 1, 2])
            #expect(cell.generations[0].prompt == "I went up to my friend and said")
            // Scores and the mean are FORMAT.md's count of the stored text.
            let counts = cell.generations.map { TopicWords.wedding.count(in: $0.output) }
            #expect(cell.generations.map { $0.score.map { Int($0) } } == counts)
            #expect(abs((cell.metrics["topic_words_mean"] ?? -1) - Double(counts.reduce(0, +)) / 6) < 1e-12)
            #expect(abs((cell.metrics["topic_share_pct"] ?? -1) - 100 * Double(counts.filter { $0 > 0 }.count) / 6) < 1e-9)
        }
        // The baseline has no perplexity ratio; the steered cell has the on-topic one and no off-topic one.
        #expect(baseline.metrics["ppl_ratio_on_topic"] == nil)
        #expect((steered.metrics["ppl_ratio_on_topic"] ?? 0) > 0 && steered.metrics["ppl_ratio_off_topic"] == nil)
        // Same seeds, different steering: the completions differ.
        #expect(baseline.generations.map(\.output) != steered.generations.map(\.output))

        // Cancel after the first prompt of the first cell: it saves its completions and the re-run continues there.
        let cancel = CancellationFlag()
        let seen = Mutex<[Int]>([])
        let results = dir.appendingPathComponent("results")
        let interrupted = try Self.run(dir, cancellation: cancel) { event in
            if case .progress(stageID: "topic", label: "prompts", done: let done, total: _, status: _) = event {
                seen.withLock { $0.append(done) }
                if done == 1 { cancel.cancel() }
            }
        }
        #expect(interrupted.outcome("topic") == .cancelled, "\(interrupted)")
        #expect(Self.checkpoints(results).map { URL(fileURLWithPath: $0).lastPathComponent } == ["cell-0.json"])
        let resumedSeen = Mutex<[Int]>([])
        let resumed = try Self.run(dir) { event in
            if case .progress(stageID: "topic", label: "prompts", done: let done, total: _, status: _) = event { resumedSeen.withLock { $0.append(done) } }
        }
        #expect(resumed.outcome("topic") == .computed(cells: 2), "\(resumed)")
        #expect(resumedSeen.withLock { $0 }.first == 1, "the first cell resumes at its second prompt: \(resumedSeen.withLock { $0 })")
        let again = try Self.cells(results)
        for (index, expected) in reference {
            #expect(again[index]?.generations == expected.generations, "cell \(index)")
            #expect(again[index]?.metrics == expected.metrics, "cell \(index)")
        }
        #expect(Self.checkpoints(results).isEmpty)
    }

    static func failure(_ manifest: String) throws -> String {
        let dir = try Self.experiment(manifest)
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try Self.run(dir)
        #expect(try Self.cells(dir.appendingPathComponent("results")).values.allSatisfy { $0.coordinates["baseline"]?.boolValue == true })
        guard case .failed(let message) = summary.outcome("topic") else { return "not failed: \(summary)" }
        return message
    }

    @Test func badInputNamesTheFieldOrTheCell() throws {
        let empty = try Self.failure(Self.manifest().replacingOccurrences(of: #""plus": " weddings", "leading_token": "<|endoftext|>","#,
                                                                         with: #""plus": "","#))
        #expect(empty.contains("stage topic") && empty.contains("params.plus") && empty.contains("no tokens"), "\(empty)")
        let unknown = try Self.failure(Self.manifest().replacingOccurrences(of: "<|endoftext|>", with: "<|no such token|>"))
        #expect(unknown.contains("params.leading_token") && unknown.contains("<|no such token|>"), "\(unknown)")
        let huge = try Self.failure(Self.manifest(params: #""layers": [16], "coefficients": [1e38], "baseline": false"#))
        #expect(huge.contains("stage topic") && huge.contains("non-finite") && huge.contains("block 16") && huge.contains("coefficient 1e+38"),
                "\(huge)")
    }
}
