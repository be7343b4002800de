import Engine
import Foundation
import ModelFormats
import Testing

/// Every backward op against central finite differences on a tiny random model.
///
/// Tolerance: the loss is computed in fp32 (values ≈ 1, rounding ≈ 1e-7), so with h = 1e-2 the difference
/// quotient carries ≈ 1e-5 of rounding noise and O(h²·f''') ≈ 1e-4 of truncation error; analytic and numeric
/// gradients must agree within 3e-3 + 3e-2·|g|, while a wrong formula is off by O(|g|).
struct GradientCheckTests {
    static func tinyConfig(bias: Bool = false, layout: ModelConfig.RopeLayout = .interleaved) -> ModelConfig {
        ModelConfig(architecture: "llama", vocabularySize: 23, embeddingLength: 8, blockCount: 3, feedForwardLength: 12,
                    headCount: 4, headCountKV: 2, headDimension: 4, contextLength: 32, rmsEpsilon: 1e-5,
                    ropeTheta: 10000, ropeLayout: layout, tiedEmbeddings: false, attentionBias: bias)
    }

    static func batch(_ c: ModelConfig) -> [TrainingSequence] {
        var g = SeededGenerator(seed: 99)
        let v1 = (0..<c.embeddingLength).map { _ in g.nextUnit() - 0.5 }, v2 = (0..<c.embeddingLength).map { _ in g.nextUnit() - 0.5 }
        return [
            TrainingSequence(tokens: [1, 5, 7, 3, 9, 2], tokenTargets: [.next(4, at: 4), .next(2, at: 5)],
                             cosineTargets: [CosineTarget(layer: 1, position: 3, vector: v1, weight: 0.7),
                                             CosineTarget(layer: 2, position: 1, vector: v2, mode: .tuneOut, weight: 0.4)]),
            TrainingSequence(tokens: [8, 6, 11, 4], tokenTargets: [
                TokenTarget(position: 3, distribution: [.init(token: 3, probability: 0.5), .init(token: 10, probability: 0.5)])],
                             cosineTargets: [CosineTarget(layer: 1, position: 2, vector: v1, weight: 0.7)]),
        ]
    }

    /// The forward-only loss (what validation uses); the finite differences below check the gradients against it.
    func loss(_ m: LlamaModel, _ b: [TrainingSequence], trainable: Range<Int>) -> Double {
        m.loss(b, crossEntropyWeight: 0.9, trainable: trainable).loss
    }

    @Test func forwardOnlyLossIsTheTrainingLossToTheBit() {
        let c = Self.tinyConfig()
        let model = LlamaModel.random(config: c, seed: 5)
        let trainable = 1..<3
        let grads = Dictionary(uniqueKeysWithValues: trainable.map { ($0, BlockGradients(zerosLike: model.weights.blocks[$0])) })
        let full = model.lossAndGradients(Self.batch(c), crossEntropyWeight: 0.9, trainable: trainable, into: grads)
        let only = model.loss(Self.batch(c), crossEntropyWeight: 0.9, trainable: trainable)
        #expect(full.loss.bitPattern == only.loss.bitPattern && full.crossEntropy.bitPattern == only.crossEntropy.bitPattern)
        #expect(full.cosines.map(\.bitPattern) == only.cosines.map(\.bitPattern) && full.cosines.count == 3)
        #expect(grads.values.contains { g in g.buffers.contains { b in (0..<b.count).contains { b[$0] != 0 } } })
    }

    func check(bias: Bool, layout: ModelConfig.RopeLayout) throws {
        let c = Self.tinyConfig(bias: bias, layout: layout)
        let model = LlamaModel.random(config: c, seed: 5)
        let batch = Self.batch(c)
        let trainable = 1..<3
        let grads = Dictionary(uniqueKeysWithValues: trainable.map { ($0, BlockGradients(zerosLike: model.weights.blocks[$0])) })
        _ = model.lossAndGradients(batch, crossEntropyWeight: 0.9, trainable: trainable, into: grads)
        var g = SeededGenerator(seed: 3)
        var checked = 0
        for l in trainable {
            let w = model.weights.blocks[l], gr = grads[l]!
            for (name, (param, grad)) in zip(["attn_norm", "qkv", "attn_output", "ffn_norm", "gate_up", "down", "qkv_bias"],
                                             zip(w.buffers, gr.buffers)) {
                for _ in 0..<6 {
                    let i = Int(g.next() % UInt64(param.count))
                    let saved = param[i], h: Float = 1e-2
                    param[i] = saved + h
                    let up = loss(model, batch, trainable: trainable)
                    param[i] = saved - h
                    let down = loss(model, batch, trainable: trainable)
                    param[i] = saved
                    let numeric = (up - down) / Double(2 * h), analytic = Double(grad[i])
                    #expect(abs(numeric - analytic) < 3e-3 + 3e-2 * abs(analytic),
                            "block \(l) \(name)[\(i)]: finite difference \(numeric), backward \(analytic)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 72)
        // Blocks outside the trainable set get nothing.
        #expect(grads[0] == nil)
    }

    @Test func wholeModelGradientsMatchFiniteDifferences() throws {
        try check(bias: false, layout: .interleaved)
        try check(bias: true, layout: .halfSplit)
    }

    @Test func oneGradientStepLowersTheLossAsPredicted() throws {
        // A plain gradient step of size η changes the loss by ≈ −η‖g‖² (first order).
        let c = Self.tinyConfig()
        let model = LlamaModel.random(config: c, seed: 11)
        let batch = Self.batch(c)
        let trainable = 0..<3
        let grads = Dictionary(uniqueKeysWithValues: trainable.map { ($0, BlockGradients(zerosLike: model.weights.blocks[$0])) })
        let before = model.lossAndGradients(batch, crossEntropyWeight: 0.9, trainable: trainable, into: grads).loss
        let eta: Float = 1e-3
        var squared = 0.0
        for l in trainable {
            for (p, gr) in zip(model.weights.blocks[l].buffers, grads[l]!.buffers) {
                for i in 0..<p.count {
                    squared += Double(gr[i]) * Double(gr[i])
                    p[i] -= eta * gr[i]
                }
            }
        }
        let after = loss(model, batch, trainable: trainable)
        let predicted = -Double(eta) * squared
        #expect(after < before)
        #expect(abs((after - before) / predicted - 1) < 0.05, "loss change \(after - before), first-order prediction \(predicted)")
    }

    @Test func elementwiseBackwardKernels() {
        var g = SeededGenerator(seed: 8)
        let n = 9
        let x = (0..<n).map { _ in g.nextUnit() * 2 - 1 }, w = (0..<n).map { _ in g.nextUnit() + 0.5 }
        let dy = (0..<n).map { _ in g.nextUnit() - 0.5 }
        func f(_ x: [Float], _ w: [Float]) -> Double {
            var y = [Float](repeating: 0, count: n)
            RMSNormKernel.apply(x, rows: 1, width: n, weight: w, epsilon: 1e-5, into: &y)
            return zip(y, dy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var dx = [Float](repeating: 0, count: n), dw = [Float](repeating: 0, count: n)
        BackwardKernels.rmsNorm(x: x, dy: dy, rows: 1, width: n, weight: w, epsilon: 1e-5, dx: &dx, dw: &dw)
        for i in 0..<n {
            var xp = x, xm = x, wp = w, wm = w
            xp[i] += 1e-2; xm[i] -= 1e-2; wp[i] += 1e-2; wm[i] -= 1e-2
            #expect(abs((f(xp, w) - f(xm, w)) / 2e-2 - Double(dx[i])) < 1e-3)
            #expect(abs((f(x, wp) - f(x, wm)) / 2e-2 - Double(dw[i])) < 1e-3)
        }
        let gate = x, up = w
        var dg = [Float](repeating: 0, count: n), du = [Float](repeating: 0, count: n)
        BackwardKernels.siluGate(gate: gate, up: up, dh: dy, dGate: &dg, dUp: &du, count: n)
        for i in 0..<n {
            let silu = { (v: Double) in v / (1 + exp(-v)) }
            let numeric = (silu(Double(gate[i]) + 1e-3) - silu(Double(gate[i]) - 1e-3)) / 2e-3 * Double(up[i]) * Double(dy[i])
            #expect(abs(numeric - Double(dg[i])) < 1e-4)
            #expect(abs(silu(Double(gate[i])) * Double(dy[i]) - Double(du[i])) < 1e-5)
        }
    }
}

/// Gradient routing: as-intended sends the cosine loss's gradient to attention V/O only.
struct GradientRoutingTests {
    @Test func asIntendedEqualsTokenGradientsPlusCosineGradientsOnVAndO() {
        let c = GradientCheckTests.tinyConfig()
        let model = LlamaModel.random(config: c, seed: 21)
        let batch = GradientCheckTests.batch(c)
        let trainable = 0..<3
        func grads(_ b: [TrainingSequence], _ routing: GradientRouting) -> [Int: BlockGradients] {
            let g = Dictionary(uniqueKeysWithValues: trainable.map { ($0, BlockGradients(zerosLike: model.weights.blocks[$0])) })
            _ = model.lossAndGradients(b, crossEntropyWeight: 0.9, trainable: trainable, routing: routing, into: g)
            return g
        }
        let intended = grads(batch, .asIntended)
        let tokenOnly = grads(batch.map { TrainingSequence(tokens: $0.tokens, tokenTargets: $0.tokenTargets) }, .asRun)
        let cosineOnly = grads(batch.map { TrainingSequence(tokens: $0.tokens, cosineTargets: $0.cosineTargets) }, .asRun)
        let asRun = grads(batch, .asRun)
        for l in trainable {
            for name in ["attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_up.weight", "attn_norm.weight"] {
                let i = intended[l]!.tensor(name, config: c)!, t = tokenOnly[l]!.tensor(name, config: c)!
                let k = cosineOnly[l]!.tensor(name, config: c)!, r = asRun[l]!.tensor(name, config: c)!
                let routed = name == "attn_v.weight" || name == "attn_output.weight"
                for j in i.indices {
                    #expect(abs(i[j] - (routed ? t[j] + k[j] : t[j])) < 1e-5, "block \(l) \(name)[\(j)]")
                    #expect(abs(r[j] - (t[j] + k[j])) < 1e-5, "as-run block \(l) \(name)[\(j)]")
                }
            }
            #expect(cosineOnly[l]!.tensor("ffn_up.weight", config: c)!.contains { abs($0) > 1e-6 },
                    "the cosine loss does reach the MLP under as-run")
        }
    }
}
