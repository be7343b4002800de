import Engine
import Foundation
import Testing

/// `VariantBatchForward`: sequences on a base model and on variants of it (some blocks' weights replaced) run as
/// one batch give each sequence what its own variant gives it alone, steering included — an intervention at the
/// output of the block before a variant's stretch is applied once, not at both ends of the stretch — and
/// `DecodingSequence` steps them as `generate` does.
struct VariantBatchForwardTests {
    static let config = GradientCheckTests.tinyConfig()

    /// The base with block `l`'s MLP norm scaled (a new buffer: the block is the variant's own).
    static func variant(of base: LlamaModel, block l: Int, scale: Float) -> LlamaModel {
        var m = base
        m.weights.blocks[l] = base.weights.blocks[l].copy()
        let norm = m.weights.blocks[l].ffnNorm
        for i in 0..<norm.count { norm.pointer[i] *= scale }
        return m
    }

    @Test func eachSequenceGetsItsOwnVariant() {
        let base = LlamaModel.random(config: Self.config, seed: 5)
        let blocks = Self.config.blockCount
        let one = Self.variant(of: base, block: 1, scale: 1.5)
        let two = Self.variant(of: base, block: blocks - 1, scale: 0.5)
        let models = [base, one, two]
        let d = Self.config.embeddingLength
        let v = (0..<d).map { Float($0 % 3) - 1 }
        // Steering at block 0 (just below variant one's stretch) and at the last block.
        let steer0 = Intervention.steer(layer: 0, vector: v, multiplier: 2)
        let steerLast = Intervention.steer(layer: blocks - 1, vector: v, multiplier: -1, positions: .generated)
        let prompts: [(tokens: [Int], variant: Int, steering: [Intervention])] = [
            ([1, 2, 3, 4], 0, []), ([5, 6, 7], 1, [steer0]), ([8, 9], 2, [steerLast]), ([3, 3, 3, 3, 3], 1, []),
            ([4, 5], 0, [steer0, steerLast]),
        ]
        func items() -> [ForwardItem] {
            prompts.map { ForwardItem(tokens: $0.tokens, cache: base.makeCache(), promptLength: $0.tokens.count, interventions: $0.steering) }
        }
        // Batched over variants, two passes (prompt, then one more token each).
        var batch = items()
        let variantOf = prompts.map(\.variant)
        let first = VariantBatchForward.forward(&batch, variantOf: variantOf, models: models)
        for k in batch.indices { batch[k].tokens = [k + 1] }
        let second = VariantBatchForward.forward(&batch, variantOf: variantOf, models: models)
        for (k, p) in prompts.enumerated() {
            var alone = [items()[k]]
            let a1 = models[p.variant].forward(&alone)
            alone[0].tokens = [k + 1]
            let a2 = models[p.variant].forward(&alone)
            let gap1 = zip(first[k].lastLogits, a1[0].lastLogits).map { abs($0 - $1) }.max()!
            let gap2 = zip(second[k].lastLogits, a2[0].lastLogits).map { abs($0 - $1) }.max()!
            #expect(gap1 < 1e-4 && gap2 < 1e-4, "sequence \(k) (variant \(p.variant)): \(gap1), \(gap2)")
            #expect(batch[k].cache.count == p.tokens.count + 1)
            #expect(batch[k].interventions == p.steering)
        }
        // The variants and the steering change the logits (so the check above is not vacuous).
        var plain = [ForwardItem(tokens: [5, 6, 7], cache: base.makeCache())]
        let basePlain = base.forward(&plain)[0].lastLogits
        #expect(zip(first[1].lastLogits, basePlain).map { abs($0 - $1) }.max()! > 1e-2)
    }

    /// `generate` (which steps `DecodingSequence`) stops on a stop token, at the budget, and on overflow.
    @Test func decodingSequenceEndsAsGenerateDoes() {
        let base = LlamaModel.random(config: Self.config, seed: 6)
        let free = base.generate([GenerationRequest(prompt: [1, 2])], options: GenerationOptions(maxNewTokens: 6))[0]
        #expect(free.tokens.count == 6 && free.finishReason == .length)
        var item = ForwardItem(tokens: [1, 2], cache: base.makeCache())
        let logits = base.forward(&item.asArray)[0].lastLogits
        var sequence = DecodingSequence(sampling: .greedy, maxNewTokens: 6, stopTokens: [free.tokens[0]], interventions: [])
        #expect(!sequence.advance(logits, item: &item, contextLength: Self.config.contextLength))
        #expect(sequence.result.tokens == [free.tokens[0]] && sequence.result.finishReason == .stopToken)
        let huge = Intervention.steer(layer: 0, vector: [Float](repeating: 1, count: Self.config.embeddingLength), multiplier: 1e30)
        var overflowing = DecodingSequence(sampling: .greedy, maxNewTokens: 6, stopTokens: [], interventions: [huge])
        #expect(!overflowing.advance(logits, item: &item, contextLength: Self.config.contextLength))
        #expect(overflowing.result.finishReason == .nonFinite && overflowing.result.tokens.isEmpty)
    }
}

private extension ForwardItem {
    var asArray: [ForwardItem] {
        get { [self] }
        set { self = newValue[0] }
    }
}
