import Engine
import Experiments
import Foundation
import ModelFormats
import Pipeline
import Synchronization
import Testing
import TestSupport

/// The `steering_sweep` runner through the scheduler on SmolLM2: a block (one layer's cells) cancelled part-way saves
/// its answers so far, `pack` carries them, and the re-run continues at the next prompt batch, storing exactly the
/// answers and metrics of an uninterrupted run.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct SweepBlockResumeTests {
    /// One block of 8 cells (7 multipliers and zero-out) decodes 32 / 8 = 4 prompts per batch: 10 prompts → 3 batches.
    static let manifest = """
    {"name": "sweep-resume", "model": {"path": "\(Fixtures.defaultModel.path)"},
     "datasets": {"gpt4": {"path": "\(Fixtures.datasets.path)/gpt4_facts/gpt4_facts.csv", "splits": {"few": {"rows": [0, 10]}}},
                  "cv": "control-vector.gguf"},
     "stages": [{"id": "vec", "kind": "vectors", "params": {"import": "cv"}},
                {"id": "sweep", "kind": "steering_sweep", "inputs": {"vector": "vec"},
                 "params": {"dataset": "gpt4:few", "layers": [8], "multipliers": [-12, -6, -3, 3, 6, 12, 24],
                            "include_zero_out": true, "max_new_tokens": 4}}]}
    """

    static func experiment() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("sweep-resume")
        try Data(manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        var g = SeededGenerator(seed: 5)
        let v = (0..<576).map { _ in g.nextUnit() - 0.5 }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        try ControlVectorFile(directions: [8: v.map { $0 / n }]).write(to: dir.appendingPathComponent("control-vector.gguf"), layerCount: 30)
        return dir
    }

    @discardableResult
    static func run(_ dir: URL, results: String, cancellation: CancellationFlag = CancellationFlag(),
                    observer: RunObserver? = nil) throws -> RunSummary {
        let manifest = try Manifest.load(from: dir.appendingPathComponent("manifest.json"))
        return try ExperimentRun(manifest: manifest, resultsDirectory: dir.appendingPathComponent(results),
                                 options: PlanOptions(engineVersion: EngineVersion.current))
            .execute(cancellation: cancellation, observer: observer)
    }

    /// Per cell index: its metrics and its stored answers (prompt, output, score).
    static func answers(_ resultsDir: URL) throws -> [Int: (metrics: [String: Double], outputs: [[String]])] {
        let store = try Store(directory: resultsDir)
        let results = try StageResults.load(store, stageID: "sweep")
        var byCell = [Int: (metrics: [String: Double], outputs: [[String]])]()
        for cell in results.cells where cell.status == .done {
            let generations = try store.generations(results.key, cell: cell.index)
            byCell[cell.index] = (cell.metrics, generations.map { [$0.prompt, $0.output, $0.score.map { "\($0)" } ?? "nil"] })
        }
        return byCell
    }

    static func checkpoints(_ resultsDir: URL) -> [String] {
        let scratch = resultsDir.appendingPathComponent("scratch/steering_sweep")
        return ((try? FileManager.default.subpathsOfDirectory(atPath: scratch.path)) ?? []).filter { $0.hasSuffix(".json") }
    }

    /// The `done` counts of the sweep's prompt progress, in order; cancels `cancel` once `done` reaches `cancelAt`.
    final class PromptProgress: Sendable {
        let seen = Mutex<[Int]>([])
        let cancelAt: Int?
        let cancel: CancellationFlag?
        init(cancelAt: Int? = nil, _ cancel: CancellationFlag? = nil) { self.cancelAt = cancelAt; self.cancel = cancel }
        var done: [Int] { seen.withLock { $0 } }
        var observer: RunObserver {
            { event in
                if case .progress(stageID: "sweep", label: "prompts", done: let done, total: _, status: _) = event {
                    self.seen.withLock { $0.append(done) }
                    if done == self.cancelAt { self.cancel?.cancel() }
                }
            }
        }
    }

    @Test func aCancelledBlockResumesAtItsNextBatchWithTheSameAnswers() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run(dir, results: "reference")
        let reference = try Self.answers(dir.appendingPathComponent("reference"))
        #expect(reference.count == 8 && reference.values.allSatisfy { $0.outputs.count == 10 && $0.metrics["n"] == 10 })

        // Cancel after the first batch of 4 prompts: the block saves its answers and gives its cells back.
        let cancel = CancellationFlag()
        let progress = PromptProgress(cancelAt: 4, cancel)
        let results = dir.appendingPathComponent("results")
        let interrupted = try Self.run(dir, results: "results", cancellation: cancel, observer: progress.observer)
        #expect(interrupted.outcome("sweep") == .cancelled, "\(interrupted)")
        #expect(progress.done == [4])
        #expect(Self.checkpoints(results).map { URL(fileURLWithPath: $0).lastPathComponent } == ["layer-8.json"])
        #expect(try Self.answers(results).isEmpty, "no cell of the block is stored yet")

        // The pack carries the block's answers; the re-run in the pack decodes only prompts 4–9.
        let packed = dir.appendingPathComponent("packed")
        let report = try StorePack.pack(try Store(directory: results), to: packed, maxArtifactBytes: 1 << 20)
        #expect(report.scratchFilesCopied == 1)
        let resumedProgress = PromptProgress()
        let resumed = try Self.run(dir, results: "packed", observer: resumedProgress.observer)
        #expect(resumed.outcome("sweep") == .computed(cells: 8), "\(resumed)")
        #expect(resumedProgress.done == [8, 10])
        let answers = try Self.answers(packed)
        #expect(answers.keys.sorted() == reference.keys.sorted())
        for (cell, expected) in reference {
            #expect(answers[cell]?.outputs == expected.outputs, "cell \(cell)")
            #expect(answers[cell]?.metrics == expected.metrics, "cell \(cell)")
        }
        #expect(Self.checkpoints(packed).isEmpty)
    }

    @Test func aCheckpointThatDoesNotFitTheBlockIsIgnored() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run(dir, results: "reference")
        let reference = try Self.answers(dir.appendingPathComponent("reference"))

        // Saved answers for the same key and layer but another batch size must not be trusted.
        let manifest = try Manifest.load(from: dir.appendingPathComponent("manifest.json"))
        let key = try #require(try ExperimentRun(manifest: manifest, resultsDirectory: dir.appendingPathComponent("results"),
                                                 options: PlanOptions(engineVersion: EngineVersion.current)).plan().stage("sweep")).key.hex
        let file = dir.appendingPathComponent("results/scratch/steering_sweep/\(key)/layer-8.json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let answers = (0..<2).map { #"{"item": \#($0), "output": "planted", "choice": 1, "honest": 1}"# }.joined(separator: ",")
        let cells = Array(repeating: "[\(answers)]", count: 8).joined(separator: ",")
        try Data(#"{"cells": [0,1,2,3,4,5,6,7], "prompts": 10, "promptsPerBatch": 2, "answers": [\#(cells)]}"#.utf8).write(to: file)
        let logs = Mutex<[String]>([])
        try Self.run(dir, results: "results") { event in
            if case .log(stageID: "sweep", message: let m) = event { logs.withLock { $0.append(m) } }
        }
        #expect(logs.withLock { $0 }.contains { $0.hasPrefix("layer 8: starting over") }, "\(logs.withLock { $0 })")
        let stored = try Self.answers(dir.appendingPathComponent("results"))
        #expect(stored.count == reference.count)
        for (cell, expected) in reference { #expect(stored[cell]?.outputs == expected.outputs, "cell \(cell)") }
        #expect(Self.checkpoints(dir.appendingPathComponent("results")).isEmpty)
    }
}
