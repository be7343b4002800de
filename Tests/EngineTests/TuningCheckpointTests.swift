import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// A tuning run interrupted after k steps and resumed from its checkpoint must end with the very same bits as the
/// uninterrupted run: weights, optimizer state, early-stopping decision and history.
struct TuningCheckpointTests {
    static let config = GradientCheckTests.tinyConfig()

    /// Twelve different batches (so that the order matters) and two validation batches.
    static func data() -> (batches: [[TrainingSequence]], validation: [[TrainingSequence]]) {
        let c = config
        var g = SeededGenerator(seed: 7)
        func sequence() -> TrainingSequence {
            let tokens = (0..<5).map { _ in Int(g.next() % UInt64(c.vocabularySize)) }
            let v = (0..<c.embeddingLength).map { _ in g.nextUnit() - 0.5 }
            return TrainingSequence(tokens: tokens, tokenTargets: [.next(Int(g.next() % UInt64(c.vocabularySize)), at: 4)],
                                    cosineTargets: [CosineTarget(layer: 2, position: 2, vector: v, weight: 0.5)])
        }
        let batches = (0..<12).map { _ in [sequence(), sequence()] }
        let validation = (0..<2).map { _ in [sequence(), sequence()] }
        return (batches, validation)
    }

    static func settings(minimumSteps: Int = 1000, patience: Int = 10) -> TuningSettings {
        var s = TuningSettings(trainableBlocks: 1..<3)
        s.attentionLearningRate = 3e-2
        s.otherLearningRate = 1e-2
        s.warmupSteps = 3
        s.window = 2
        s.minimumSteps = minimumSteps
        s.patience = patience
        return s
    }

    static func bits(_ t: RepresentationTuner) -> [[UInt32]] {
        t.settings.trainableBlocks.flatMap { l in t.model.weights.blocks[l].buffers.map { $0.array.map(\.bitPattern) } }
    }

    @Test(arguments: [1, 5, 11])
    func resumedRunIsBitIdenticalToTheUninterruptedOne(interruptAfter k: Int) throws {
        let base = LlamaModel.random(config: Self.config, seed: 3)
        let (batches, validation) = Self.data()
        var whole = RepresentationTuner(base: base, settings: Self.settings())
        whole.train(batches: batches, validation: validation)
        #expect(whole.history.count == 12)

        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("sub/checkpoint.gguf")
        var first = RepresentationTuner(base: base, settings: Self.settings())
        for _ in 0..<k { _ = first.trainStep(batches: batches, validation: validation) }
        try first.writeCheckpoint(to: url, fingerprint: "data-1")
        let differs = Self.bits(first) != Self.bits(whole)
        #expect(differs, "k steps alone must not already give the final weights")

        // A fresh process: a new tuner from the base model, restored, then the rest of the batches.
        var resumed = RepresentationTuner(base: base, settings: Self.settings())
        let state = try resumed.restoreCheckpoint(from: url, fingerprint: "data-1")
        #expect(state.history.count == k)
        #expect(resumed.history == first.history)
        var steps: [Int] = []
        resumed.train(batches: batches, validation: validation) { record, _ in steps.append(record.step) }
        #expect(steps == Array((k + 1)...12), "resumed steps continue after step \(k)")
        let identical = Self.bits(resumed) == Self.bits(whole)
        #expect(identical, "resumed weights differ from the uninterrupted run's")
        #expect(resumed.history == whole.history)
        #expect(resumed.stopping == whole.stopping)
    }

    @Test func earlyStoppingStateCarriesAcrossTheResume() throws {
        let base = LlamaModel.random(config: Self.config, seed: 4)
        // Validation that training makes worse (the same prompt, another answer): early stopping fires once past
        // the minimum.
        let batches = Array(repeating: [TrainingSequence(tokens: [5, 6, 7], tokenTargets: [.next(8, at: 2)])], count: 12)
        let unrelated = [[TrainingSequence(tokens: [5, 6, 7], tokenTargets: [.next(9, at: 2)])]]
        let settings = Self.settings(minimumSteps: 4, patience: 2)
        var whole = RepresentationTuner(base: base, settings: settings)
        whole.train(batches: batches, validation: unrelated)
        let stoppedAt = whole.history.count
        try #require(stoppedAt < 12 && stoppedAt > 3, "the setup must stop early after the resume point (stopped at \(stoppedAt))")

        let url = try Fixtures.temporaryDirectory().appendingPathComponent("checkpoint.gguf")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var first = RepresentationTuner(base: base, settings: settings)
        for _ in 0..<3 { _ = first.trainStep(batches: batches, validation: unrelated) }
        try first.writeCheckpoint(to: url, fingerprint: "x")
        var resumed = RepresentationTuner(base: base, settings: settings)
        try resumed.restoreCheckpoint(from: url, fingerprint: "x")
        resumed.train(batches: batches, validation: unrelated)
        #expect(resumed.history.count == stoppedAt)
        #expect(resumed.stopping.stopped)
        #expect(resumed.trainStep(batches: batches, validation: unrelated) == nil)
        let identical = Self.bits(resumed) == Self.bits(whole)
        #expect(identical, "resumed weights differ from the uninterrupted run's")

        // A finished run's checkpoint resumes as finished.
        try resumed.writeCheckpoint(to: url, fingerprint: "x")
        var again = RepresentationTuner(base: base, settings: settings)
        try again.restoreCheckpoint(from: url, fingerprint: "x")
        #expect(again.isFinished(batchCount: batches.count))
    }

    @Test func aCheckpointOfAnotherRunIsRefusedWithoutChangingTheTuner() throws {
        let base = LlamaModel.random(config: Self.config, seed: 3)
        let (batches, validation) = Self.data()
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("checkpoint.gguf")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var first = RepresentationTuner(base: base, settings: Self.settings())
        _ = first.trainStep(batches: batches, validation: validation)
        try first.writeCheckpoint(to: url, fingerprint: "data-1")

        var other = RepresentationTuner(base: base, settings: Self.settings())
        let before = Self.bits(other)
        #expect(throws: TuningCheckpointError.self) { try other.restoreCheckpoint(from: url, fingerprint: "data-2") }
        var changed = Self.settings()
        changed.otherLearningRate = 2e-2
        var differentSettings = RepresentationTuner(base: base, settings: changed)
        do {
            try differentSettings.restoreCheckpoint(from: url, fingerprint: "data-1")
            Issue.record("a checkpoint written with other settings was accepted")
        } catch let error as TuningCheckpointError {
            #expect(error.description.contains("settings"))
            #expect(error.description.contains(url.path))
        }
        let unchanged = Self.bits(other) == before
        #expect(unchanged, "a refused checkpoint changed the weights")
        #expect(other.history.isEmpty)

        // Not a checkpoint at all.
        let variant = url.deletingLastPathComponent().appendingPathComponent("variant.gguf")
        try first.writeVariant(to: variant, baseSHA256: nil)
        #expect(throws: TuningCheckpointError.self) { try other.restoreCheckpoint(from: variant, fingerprint: "data-1") }
    }
}
