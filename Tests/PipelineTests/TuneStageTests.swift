import Engine
import Foundation
import ModelFormats
import Pipeline
import Synchronization
import Testing
import TestSupport

/// The `tune` runner through the scheduler on SmolLM2: a few honesty-tuning steps of two top blocks, the variant
/// artifact, the stored metrics/outputs, and an interrupted cell resuming from its checkpoint to the same bits.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct TuneStageTests {
    static let facts = Fixtures.datasets.appendingPathComponent("facts_true_false/facts_true_false.csv")
    static let steps = 8

    /// Rows 0…7 hold 4 true and 4 false statements (4 pairs); with batch 2 and 2 epochs: 8 steps.
    static func manifest(objective: String = "honesty") -> String {
        """
        {"name": "tune-test", "model": {"path": "\(Fixtures.defaultModel.path)"},
         "datasets": {"facts": {"path": "\(facts.path)",
                                "splits": {"train": {"indices": [0, 1, 2, 3, 4, 5, 6, 7]}, "val": {"indices": [8, 11, 9, 13]}}}},
         "stages": [
           {"id": "acts", "kind": "collect_activations", "params": {"dataset": "facts", "layers": [27, 28]}},
           {"id": "vec", "kind": "vectors", "inputs": {"activations": "acts"}},
           {"id": "tuned", "kind": "tune",
            "params": {"objective": "\(objective)", "dataset": "facts:train", "validation": "facts:val", "layers": [27, 28],
                       "loss_layers": [28], "probe_position": -8, "lr_vo": 1e-3, "lr_other": 1e-4, "batch_size": 2,
                       "epochs": 2, "warmup_steps": 1, "min_steps": 0, "patience": 100, "val_window": 2},
            "inputs": {"vector": "vec"}}
         ]}
        """
    }

    /// Stand-ins for the vector stages: random unit directions for every block (seeded), as a control-vector GGUF.
    static func registry() -> StageRegistry {
        var r = StageRegistry()
        r.register(.collectActivations, .perCell { _, _ in CellResult() })
        r.register(.vectors, .perCell { context, _ in
            var g = SeededGenerator(seed: 12)
            let directions = Dictionary(uniqueKeysWithValues: (0..<30).map { l in
                let v = (0..<576).map { _ in g.nextUnit() - 0.5 }
                let n = v.map { $0 * $0 }.reduce(0, +).squareRoot()
                return (l, v.map { $0 / n })
            })
            let ref = try context.store.writeArtifact { try ControlVectorFile(directions: directions).write(to: $0, layerCount: 30) }
            return CellResult(artifacts: [StageArtifact.vectors: ref])
        })
        r.register(.tune, .tune)
        return r
    }

    static func experiment(_ text: String = manifest()) throws -> URL {
        let dir = try Fixtures.temporaryDirectory("reptune-tune")
        try Data(text.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        return dir
    }

    @discardableResult
    static func run(_ dir: URL, results: String = "results", cancellation: CancellationFlag = CancellationFlag(),
                    observer: RunObserver? = nil) throws -> RunSummary {
        try ExperimentRun(manifest: Manifest.load(from: dir.appendingPathComponent("manifest.json")),
                          resultsDirectory: dir.appendingPathComponent(results), options: PlanOptions(engineVersion: EngineVersion.current))
            .execute(registry: registry(), cancellation: cancellation, observer: observer)
    }

    static func tunedCell(_ resultsDir: URL) throws -> (Store, CellRecord) {
        let store = try Store(directory: resultsDir)
        let cell = try #require(try StageResults.load(store, stageID: "tuned").cells.first)
        return (store, cell)
    }

    @Test func aFewStepsProduceAVariantOfTheTrainedBlocksAndTheStoredOutputs() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try Self.run(dir)
        #expect(summary.outcome("tuned") == .computed(cells: 1), "\(summary)")
        let (store, cell) = try Self.tunedCell(dir.appendingPathComponent("results"))
        #expect(cell.metrics["steps"] == Double(Self.steps))
        for name in ["final_train_loss", "final_validation_loss", "best_validation_loss", "seconds"] {
            #expect(cell.metrics[name].map { $0.isFinite } == true, "metric \(name)")
        }
        guard case .object(let outputs) = cell.outputs.content else { Issue.record("outputs are not an object"); return }
        let out = Dictionary(uniqueKeysWithValues: outputs.map { ($0.key, $0.value) })
        #expect(out["objective"]?.stringValue == "honesty")
        guard case .array(let history)? = out["history"]?.content else { Issue.record("no history"); return }
        #expect(history.count == Self.steps)

        // The cosine map: every block × offsets −10…3, base and tuned; tuning towards v raised the cosine at the
        // loss layer around the probe position.
        guard case .object(let mapMembers)? = out["cosine_map"]?.content else { Issue.record("no cosine_map"); return }
        let map = Dictionary(uniqueKeysWithValues: mapMembers.map { ($0.key, $0.value) })
        func matrix(_ key: String) -> [[Double]] {
            guard case .array(let rows)? = map[key]?.content else { return [] }
            return rows.map { row in
                guard case .array(let xs) = row.content else { return [] }
                return xs.map { x in if case .number(let n) = x.content { return n.doubleValue } else { return .nan } }
            }
        }
        let baseMap = matrix("base"), tunedMap = matrix("tuned")
        #expect(baseMap.count == 30 && tunedMap.count == 30 && baseMap.allSatisfy { $0.count == 14 })
        #expect(baseMap[28][2] < tunedMap[28][2], "cos at block 28, offset −8: base \(baseMap[28][2]) → tuned \(tunedMap[28][2])")
        // Below the trained blocks the prompt positions (−10…0) are unchanged; the generated ones may differ, as
        // each model generates its own tokens.
        #expect(baseMap[10].prefix(11) == tunedMap[10].prefix(11), "blocks below the trained ones are unchanged")

        // The variant holds blocks 27 and 28 only; applied to the base model it changes exactly those.
        let ref = try #require(cell.artifacts[StageArtifact.variant])
        let file = try GGUFFile(contentsOf: store.artifactURL(ref))
        #expect(Set(file.tensors.map { String($0.name.split(separator: ".")[1]) }) == ["27", "28"])
        #expect(file.metadata["reptune.base_sha256"]?.string == (try store.digest(of: Fixtures.defaultModel)))
        let base = try LanguageModel(gguf: Fixtures.defaultModel)
        let tuned = try base.network.applying(variant: file)
        for l in 0..<30 {
            let same = zip(base.network.weights.blocks[l].buffers, tuned.weights.blocks[l].buffers).allSatisfy { $0.array == $1.array }
            #expect(same == !(27...28).contains(l), "block \(l)")
        }
        // No checkpoint is left behind once the cell is stored.
        let scratch = dir.appendingPathComponent("results/scratch/tune/\(cell.stageKey)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: scratch.path))?.isEmpty ?? true)

        // `reptune export` writes a standalone model whose logits are the tuned model's.
        try #require(CLI.executable != nil, CLI.missing)
        let exported = dir.appendingPathComponent("tuned.gguf")
        let export = try CLI.run(["export", dir.appendingPathComponent("results").path, "--stage", "tuned", "--out", exported.path])
        #expect(export.status == 0, "\(export.stderr)")
        let standalone = try LanguageModel(gguf: exported)
        #expect(standalone.chatTemplate != nil && standalone.tokenizer.encode("Is it true?") == base.tokenizer.encode("Is it true?"))
        let prompt = base.tokenizer.encode("<|im_start|>user\nIs the sky blue?<|im_end|>\n<|im_start|>assistant\n", parseSpecial: true)
        var a = [ForwardItem(tokens: prompt, cache: standalone.network.makeCache())]
        var b = [ForwardItem(tokens: prompt, cache: tuned.makeCache())]
        var c = [ForwardItem(tokens: prompt, cache: base.network.makeCache())]
        let tunedLogits = tuned.forward(&b)[0].lastLogits
        let sameAsTuned = standalone.network.forward(&a)[0].lastLogits == tunedLogits
        let sameAsBase = base.network.forward(&c)[0].lastLogits == tunedLogits
        #expect(sameAsTuned, "the exported model's logits differ from base + variant")
        #expect(!sameAsBase, "the tuned logits equal the base model's")
        let wrongBase = try CLI.run(["export", dir.appendingPathComponent("results").path, "--stage", "tuned", "--out",
                                     dir.appendingPathComponent("x.gguf").path, "--model", exported.path])
        #expect(wrongBase.status == 1 && wrongBase.stderr.contains("sha256"), "\(wrongBase.stderr)")
    }

    @Test func anInterruptedCellResumesFromItsCheckpointToTheSameWeights() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run(dir, results: "reference")
        let (_, reference) = try Self.tunedCell(dir.appendingPathComponent("reference"))

        // Cancel after step 3: the runner checkpoints before step 4 and gives the cell back.
        let cancel = CancellationFlag()
        let seen = Mutex<[Int]>([])
        let interrupted = try Self.run(dir, cancellation: cancel) { event in
            if case .progress(stageID: "tuned", label: "steps", done: let done, total: _, status: _) = event {
                seen.withLock { $0.append(done) }
                if done == 3 { cancel.cancel() }
            }
        }
        #expect(interrupted.outcome("tuned") == .cancelled, "\(interrupted)")
        #expect(seen.withLock { $0 } == [1, 2, 3])
        let checkpoints = try FileManager.default.subpathsOfDirectory(atPath: dir.appendingPathComponent("results/scratch/tune").path)
            .filter { $0.hasSuffix(".gguf") }
        #expect(checkpoints.count == 1)
        let state = try TuningCheckpoint.readState(from: dir.appendingPathComponent("results/scratch/tune").appendingPathComponent(checkpoints[0]))
        #expect(state.history.count == 3)

        // The re-run continues at step 4 and ends with the uninterrupted run's exact variant file.
        seen.withLock { $0 = [] }
        let resumed = try Self.run(dir) { event in
            if case .progress(stageID: "tuned", label: "steps", done: let done, total: _, status: _) = event { seen.withLock { $0.append(done) } }
        }
        #expect(resumed.outcome("tuned") == .computed(cells: 1), "\(resumed)")
        #expect(seen.withLock { $0 } == Array(4...Self.steps))
        let (_, cell) = try Self.tunedCell(dir.appendingPathComponent("results"))
        #expect(cell.artifacts[StageArtifact.variant]?.sha256 == reference.artifacts[StageArtifact.variant]?.sha256)
        #expect(cell.metrics["steps"] == Double(Self.steps))
        #expect(cell.metrics["final_train_loss"] == reference.metrics["final_train_loss"])
        #expect(try FileManager.default.subpathsOfDirectory(atPath: dir.appendingPathComponent("results/scratch/tune").path)
            .filter { $0.hasSuffix(".gguf") }.isEmpty)
    }
}

/// Where a tune cell keeps its gradients and moments: in memory when they fit, else on disk, with the reason.
@Test func trainingStateGoesToDiskOnlyWhenMemoryIsShort() throws {
    let config = ModelConfig(architecture: "llama", vocabularySize: 64, embeddingLength: 64, blockCount: 4, feedForwardLength: 128,
                             headCount: 2, headCountKV: 2, contextLength: 64, rmsEpsilon: 1e-5, ropeTheta: 10000,
                             ropeLayout: .interleaved, tiedEmbeddings: true, attentionBias: false)
    let model = LlamaModel.random(config: config, seed: 1)
    let settings = TuningSettings(trainableBlocks: 1..<3)
    #expect(TrainingStatePlacement.choose(model: model, settings: settings, batch: 4, tokens: 32, available: 1 << 30) == .memory)
    guard case .disk(let reason) = TrainingStatePlacement.choose(model: model, settings: settings, batch: 4, tokens: 32, available: 100_000) else {
        Issue.record("expected disk")
        return
    }
    #expect(reason.contains("of memory is available"))
}
