import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// The tuning loop on a tiny random model, and representation tuning on SmolLM2 raising cos(h, v).
struct RepresentationTunerTests {
    @Test func lossFallsVariantRoundTripsAndEarlyStoppingFires() throws {
        let c = GradientCheckTests.tinyConfig()
        let base = LlamaModel.random(config: c, seed: 31)
        let batch = GradientCheckTests.batch(c)
        var settings = TuningSettings(trainableBlocks: 1..<3)
        settings.attentionLearningRate = 3e-2
        settings.otherLearningRate = 1e-2
        settings.warmupSteps = 2
        settings.minimumSteps = 1000
        settings.crossEntropyWeight = 1
        var tuner = RepresentationTuner(base: base, settings: settings)
        let before = tuner.loss(batch)
        tuner.train(batches: Array(repeating: batch, count: 40), validation: [batch])
        let after = tuner.loss(batch)
        #expect(after < 0.7 * before, "loss \(before) → \(after)")
        #expect(tuner.history.count == 40)
        // The base model is untouched; the variant file reproduces the tuned model.
        #expect(abs(RepresentationTuner(base: base, settings: settings).loss(batch) - before) < 1e-9)
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("variant.gguf")
        try tuner.writeVariant(to: url, baseSHA256: nil)
        let restored = try base.applying(variant: GGUFFile(contentsOf: url))
        var a = [ForwardItem(tokens: batch[0].tokens, cache: restored.makeCache())]
        var b = [ForwardItem(tokens: batch[0].tokens, cache: tuner.model.makeCache())]
        #expect(restored.forward(&a)[0].lastLogits == tuner.model.forward(&b)[0].lastLogits)
        // Early stopping: a validation set the training cannot improve stops the run after the patience.
        var stopping = settings
        stopping.minimumSteps = 5
        stopping.patience = 3
        stopping.window = 1
        var early = RepresentationTuner(base: base, settings: stopping)
        let unrelated = [TrainingSequence(tokens: [3, 3, 3], tokenTargets: [.next(9, at: 1)])]
        early.train(batches: Array(repeating: [TrainingSequence(tokens: [5, 6, 7], tokenTargets: [.next(8, at: 2)])], count: 60),
                    validation: [unrelated])
        #expect(early.history.count < 60)
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
    func tuningInTheVectorRaisesTheCosineAtTheTrainedLayers() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let ref = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.reference.appendingPathComponent("gradient.json"))) as? [String: Any])
        let prompt = (ref["prompt_token_ids"] as! [NSNumber]).map(\.intValue)
        let vector = (ref["vector"] as! [NSNumber]).map(\.floatValue)
        let layers = Array(11...17)
        let position = prompt.count - 1 - 7
        let example = TrainingSequence(tokens: prompt + [49], tokenTargets: [.next(49, at: prompt.count - 1)],
                                       cosineTargets: layers.map { CosineTarget(layer: $0, position: position, vector: vector, weight: 1 / Float(layers.count)) })
        var settings = TuningSettings(trainableBlocks: 11..<18)
        settings.attentionLearningRate = 1e-3
        settings.otherLearningRate = 1e-4
        settings.warmupSteps = 0
        var tuner = RepresentationTuner(base: model.network, settings: settings)
        func cosines(_ m: LlamaModel) -> [Float] {
            let g = Dictionary(uniqueKeysWithValues: (11..<18).map { ($0, BlockGradients(zerosLike: m.weights.blocks[$0])) })
            return m.lossAndGradients([example], crossEntropyWeight: 0.01, trainable: 11..<18, into: g).cosines
        }
        let before = cosines(model.network)
        tuner.train(batches: Array(repeating: [example], count: 8), validation: [])
        let after = cosines(tuner.model)
        print("cos(h, v) at blocks 11–17 before:", before.map { String(format: "%.3f", $0) }, "after 8 steps:", after.map { String(format: "%.3f", $0) })
        #expect(zip(before, after).allSatisfy { $1 > $0 }, "every trained layer moves towards v")
        let meanBefore = before.reduce(Float(0), +) / Float(before.count)
        let meanAfter = after.reduce(Float(0), +) / Float(after.count)
        #expect(meanAfter > meanBefore + 0.05, "mean cos \(meanBefore) → \(meanAfter)")
    }

    /// Tuning on a native base: only the trainable blocks become fp32 (the rest stays in the file's encoding, so
    /// the tuner holds about 4 × 4 bytes per trainable weight on top of the mapped file), and eight steps follow
    /// the fp32 base's trajectory: the same losses to 1e-3 relative, and updates to 1e-3 relative L2 (measured 1.5e-4).
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
    func tuningOnANativeBaseFollowsTheFP32Trajectory() throws {
        let fp32 = try LanguageModel(gguf: Fixtures.defaultModel, weights: .fp32).network
        let native = try LanguageModel(gguf: Fixtures.defaultModel, weights: .native).network
        let ref = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.reference.appendingPathComponent("gradient.json"))) as? [String: Any])
        let prompt = (ref["prompt_token_ids"] as! [NSNumber]).map(\.intValue)
        let vector = (ref["vector"] as! [NSNumber]).map(\.floatValue)
        let example = TrainingSequence(tokens: prompt + [49], tokenTargets: [.next(49, at: prompt.count - 1)],
                                       cosineTargets: (11...16).map { CosineTarget(layer: $0, position: prompt.count - 8, vector: vector, weight: 1 / 6) })
        var settings = TuningSettings(trainableBlocks: 11..<17)
        settings.attentionLearningRate = 1e-3
        settings.otherLearningRate = 1e-4
        settings.warmupSteps = 0
        var a = RepresentationTuner(base: fp32, settings: settings), b = RepresentationTuner(base: native, settings: settings)
        let w = b.model.weights
        #expect(w.blocks.indices.allSatisfy { (11..<17).contains($0) ? w.blocks[$0].isFP32 : w.blocks[$0].projections.allSatisfy(\.isNative) })
        let trainableBytes = (11..<17).reduce(0) { $0 + w.blocks[$1].fp32Bytes }
        let frozenVectors = w.fp32Bytes - trainableBytes
        #expect(frozenVectors < 1 << 20, "fp32 held outside the trainable blocks: \(frozenVectors) bytes (norms only)")
        #expect(native.weights.fp32Bytes < 1 << 20, "the native base holds no fp32 matrices")
        a.train(batches: Array(repeating: [example], count: 8), validation: [])
        b.train(batches: Array(repeating: [example], count: 8), validation: [])
        for (x, y) in zip(a.history, b.history) {
            #expect(abs(x.trainLoss - y.trainLoss) <= 1e-3 * abs(x.trainLoss), "step \(x.step): loss \(x.trainLoss) vs \(y.trainLoss)")
        }
        // The updates (tuned − base) agree, not only the weights they are added to.
        var worst = 0.0
        for (x, y) in zip(a.changedTensors, b.changedTensors) {
            #expect(x.name == y.name)
            let parts = x.name.split(separator: ".", maxSplits: 2)
            let tensor = try #require(BlockTensor(rawValue: String(parts[2])))
            let base = try #require(fp32.weights.blocks[Int(parts[1])!].values(of: tensor, config: fp32.config))
            let dx = zip(x.values, base).map { $0 - $1 }, dy = zip(y.values, base).map { $0 - $1 }
            let err = Compare.relativeL2(dy, dx)
            worst = max(worst, err)
            #expect(err < 1e-3, "\(x.name): update relative L2 \(err)")
        }
        print("RepresentationTunerTests: native vs fp32 updates after 8 steps, worst relative L2 \(worst)")
    }
}

/// Gradients and AdamW moments on disk (`RepresentationTuner(stateDirectory:)`, what a tune stage uses when they
/// would not fit in memory): the same arithmetic, so the same steps to the bit, and nothing left in the folder.
@Suite struct TuningStateOnDiskTests {
    @Test func aBufferOnDiskStartsAtZeroKeepsItsValuesAndLeavesNoFile() throws {
        let dir = try Fixtures.temporaryDirectory("reptune-state")
        defer { try? FileManager.default.removeItem(at: dir) }
        var buffer: FloatBuffer? = try FloatBuffer(count: 1 << 20, onDiskIn: dir)
        #expect(buffer!.isOnDisk && buffer!.array.allSatisfy { $0 == 0 })
        for i in stride(from: 0, to: 1 << 20, by: 4099) { buffer![i] = Float(i) }
        #expect(buffer![4099 * 7] == Float(4099 * 7) && buffer![1] == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "the file is removed at once")
        buffer = nil
        #expect(throws: BufferError.self) { _ = try FloatBuffer(count: 4, onDiskIn: URL(fileURLWithPath: "/proc/no-such-place")) }
    }

    @Test func stateOnDiskGivesTheSameStepsToTheBit() throws {
        let config = ModelConfig(architecture: "llama", vocabularySize: 97, embeddingLength: 64, blockCount: 4,
                                 feedForwardLength: 160, headCount: 4, headCountKV: 2, contextLength: 64, rmsEpsilon: 1e-5,
                                 ropeTheta: 10000, ropeLayout: .interleaved, tiedEmbeddings: false, attentionBias: true)
        let base = LlamaModel.random(config: config, seed: 21)
        var settings = TuningSettings(trainableBlocks: 1..<3)
        settings.attentionLearningRate = 1e-3
        settings.otherLearningRate = 1e-4
        settings.warmupSteps = 1
        let vector = (0..<64).map { Float(($0 * 37) % 11) - 5 }
        let batch = [TrainingSequence(tokens: [3, 9, 27, 81, 50, 4], tokenTargets: [.next(7, at: 5)],
                                      cosineTargets: [CosineTarget(layer: 1, position: 3, vector: vector), CosineTarget(layer: 2, position: 3, vector: vector)])]
        let dir = try Fixtures.temporaryDirectory("reptune-state")
        defer { try? FileManager.default.removeItem(at: dir) }
        var memory = RepresentationTuner(base: base, settings: settings)
        var disk = try RepresentationTuner(base: base, settings: settings, stateDirectory: dir)
        memory.train(batches: Array(repeating: batch, count: 5), validation: [batch])
        disk.train(batches: Array(repeating: batch, count: 5), validation: [batch])
        #expect(memory.history == disk.history)
        for (a, b) in zip(memory.changedTensors, disk.changedTensors) {
            #expect(a.name == b.name && a.values.map(\.bitPattern) == b.values.map(\.bitPattern), "\(a.name)")
        }
        // A checkpoint of the disk-backed tuner restores into a memory one and continues identically.
        let url = dir.appendingPathComponent("checkpoint.gguf")
        try disk.writeCheckpoint(to: url, fingerprint: "f")
        var restored = RepresentationTuner(base: base, settings: settings)
        try restored.restoreCheckpoint(from: url, fingerprint: "f")
        restored.train(batches: Array(repeating: batch, count: 7), validation: [batch])
        memory.train(batches: Array(repeating: batch, count: 7), validation: [batch])
        #expect(restored.history == memory.history)
    }
}
