import Engine
import Foundation
import Testing

/// Each hot kernel against a plain fp64 implementation of its definition.
struct KernelTests {
    func random(_ n: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<n).map { _ in g.nextUnit() * 2 - 1 }
    }

    @Test func rmsNormMatchesDefinition() {
        let rows = 3, width = 37
        let x = random(rows * width, seed: 1), w = random(width, seed: 2)
        var y = [Float](repeating: 0, count: rows * width)
        RMSNormKernel.apply(x, rows: rows, width: width, weight: w, epsilon: 1e-5, into: &y)
        for r in 0..<rows {
            let row = x[r * width..<(r + 1) * width].map(Double.init)
            let rms = (row.reduce(0) { $0 + $1 * $1 } / Double(width) + 1e-5).squareRoot()
            for i in 0..<width {
                #expect(abs(Double(y[r * width + i]) - Double(w[i]) * row[i] / rms) < 1e-6)
            }
        }
    }

    @Test func ropeRotatesPairsAndPreservesNorm() {
        let hd = 8, theta: Float = 10000
        for layout in [RoPEKernel.RotaryLayout.interleaved, .halfSplit] {
            let rope = RoPEKernel(headDimension: hd, theta: theta, layout: layout)
            var x = random(2 * hd, seed: 3)
            let original = x
            var trig = [Float](repeating: 0, count: hd)
            let position = 5
            trig.withUnsafeMutableBufferPointer { t in
                x.withUnsafeMutableBufferPointer { rope.rotate($0.baseAddress!, heads: 2, position: position,
                                                               cos: t.baseAddress!, sin: t.baseAddress! + hd / 2) }
            }
            for h in 0..<2 {
                for i in 0..<hd / 2 {
                    let angle = Double(position) / pow(Double(theta), Double(2 * i) / Double(hd))
                    let (a, b) = layout == .interleaved ? (h * hd + 2 * i, h * hd + 2 * i + 1) : (h * hd + i, h * hd + i + hd / 2)
                    let ea = Double(original[a]) * cos(angle) - Double(original[b]) * sin(angle)
                    let eb = Double(original[b]) * cos(angle) + Double(original[a]) * sin(angle)
                    #expect(abs(Double(x[a]) - ea) < 1e-5 && abs(Double(x[b]) - eb) < 1e-5)
                }
            }
            // Inverse rotation restores the input.
            trig.withUnsafeMutableBufferPointer { t in
                x.withUnsafeMutableBufferPointer { rope.rotateInverse($0.baseAddress!, heads: 2, position: position,
                                                                      cos: t.baseAddress!, sin: t.baseAddress! + hd / 2) }
            }
            #expect(zip(x, original).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }

    /// Short blocks go through the direct kernel, long ones (more rows than `directThreshold`, several chunks, with a
    /// cache before them) through the chunked sgemm path; both against attention computed naively in Double.
    @Test(arguments: [(3, 4), (5, 2 * AttentionKernel.directThreshold + 37)])
    func causalAttentionMatchesNaive(past: Int, n: Int) {
        let heads = 4, kvHeads = 2, hd = 8, context = past + n
        let group = heads / kvHeads, ldq = heads * hd, ldkv = kvHeads * hd
        let q = random(n * ldq, seed: 4), k = random(context * ldkv, seed: 5), v = random(context * ldkv, seed: 6)
        for newTokens in [n, 1] {
            let qRows = Array(q[((n - newTokens) * ldq)...])
            let ctx = past + n - (n - newTokens)  // context ends at the last new token
            var out = [Float](repeating: 0, count: newTokens * ldq)
            AttentionKernel.causal(queries: qRows, ldq: ldq, keys: k, values: v, ldkv: ldkv, output: &out, ldo: ldq,
                                   newTokens: newTokens, context: ctx, heads: heads, group: group, headDimension: hd,
                                   scale: 0.35)
            for r in 0..<newTokens {
                let visible = ctx - newTokens + r + 1
                for h in 0..<heads {
                    let kvh = h / group
                    var scores = (0..<visible).map { j in
                        0.35 * (0..<hd).reduce(0.0) { $0 + Double(qRows[r * ldq + h * hd + $1]) * Double(k[j * ldkv + kvh * hd + $1]) }
                    }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let s = scores.reduce(0, +)
                    for e in 0..<hd {
                        let expected = (0..<visible).reduce(0.0) { $0 + scores[$1] / s * Double(v[$1 * ldkv + kvh * hd + e]) }
                        #expect(abs(Double(out[r * ldq + h * hd + e]) - expected) < 1e-5)
                    }
                }
            }
        }
    }

    @Test func siluGateSoftmaxArgmax() {
        let g = random(19, seed: 7), u = random(19, seed: 8)
        var out = [Float](repeating: 0, count: 19)
        ActivationKernels.siluGate(g, u, into: &out, count: 19)
        for i in 0..<19 {
            let e = Double(g[i]) / (1 + exp(-Double(g[i]))) * Double(u[i])
            #expect(abs(Double(out[i]) - e) < 1e-6)
        }
        var s: [Float] = [1, 2, 3, 1000]
        ActivationKernels.softmax(&s, count: 4)
        #expect(abs(s.reduce(0, +) - 1) < 1e-6 && s[3] > 0.999)
        #expect(ActivationKernels.argmax([1, 5, 5, 2], count: 4) == 1)
        let x = random(100, seed: 9)
        let naive = log(x.reduce(0.0) { $0 + exp(Double($1)) })
        #expect(abs(ActivationKernels.logSumExp(x, count: 100) - naive) < 1e-5)
        #expect(abs(ActivationKernels.dot(g, u, count: 19) - zip(g, u).reduce(0) { $0 + $1.0 * $1.1 }) < 1e-5)
    }

    @Test func samplerIsGreedyAtZeroTemperatureAndReproducibleWithASeed() {
        let logits: [Float] = [0.1, 2.0, 1.9, -1, 0.5]
        var greedy = Sampler(.greedy)
        #expect(greedy.next(logits[...]) == 1)
        var a = Sampler(.random(temperature: 1, topP: 1, seed: 42)), b = Sampler(.random(temperature: 1, topP: 1, seed: 42))
        let drawsA = (0..<50).map { _ in a.next(logits[...]) }, drawsB = (0..<50).map { _ in b.next(logits[...]) }
        #expect(drawsA == drawsB)
        #expect(Set(drawsA).count > 1, "temperature 1 should not always pick the same token")
        // top-p small enough keeps only the best token.
        var nucleus = Sampler(.random(temperature: 1, topP: 0.1, seed: 1))
        #expect((0..<20).allSatisfy { _ in nucleus.next(logits[...]) == 1 })
    }

    @Test func projectionUsesGemvForOneRowAndGemmOtherwise() {
        let w = random(5 * 7, seed: 10), x = random(3 * 7, seed: 11)
        for rows in [1, 3] {
            var y = [Float](repeating: 0, count: rows * 5)
            MatMul.projection(x, rows: rows, inFeatures: 7, weight: w, outFeatures: 5, into: &y)
            for r in 0..<rows {
                for o in 0..<5 {
                    let e = (0..<7).reduce(Float(0)) { $0 + x[r * 7 + $1] * w[o * 7 + $1] }
                    #expect(abs(y[r * 5 + o] - e) < 1e-5)
                }
            }
        }
    }
}
