import Engine
import ModelFormats
import Testing

/// The logit lens of a vector equals the output head applied to its final RMSNorm, computed here with plain
/// double-precision loops on a random model (separate and tied heads).
struct LogitLensTests {
    @Test(arguments: [false, true]) func lensIsTheHeadOfTheNormalisedVector(tied: Bool) {
        let c = ModelConfig(architecture: "llama", vocabularySize: 37, embeddingLength: 8, blockCount: 2, feedForwardLength: 12,
                            headCount: 4, headCountKV: 2, headDimension: 2, contextLength: 16, rmsEpsilon: 1e-5,
                            ropeTheta: 10000, ropeLayout: .interleaved, tiedEmbeddings: tied, attentionBias: false)
        let model = LlamaModel.random(config: c, seed: 7)
        var g = SeededGenerator(seed: 3)
        let v = (0..<8).map { _ in 4 * (g.nextUnit() - 0.5) }
        let d = 8
        let ms = v.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(d)
        let inv = 1 / (ms + Double(c.rmsEpsilon)).squareRoot()
        let normed = (0..<d).map { Double(v[$0]) * inv * Double(model.weights.outputNorm[$0]) }
        let head = model.weights.head.array
        let expected = (0..<c.vocabularySize).map { t in (0..<d).reduce(0.0) { $0 + Double(head[t * d + $1]) * normed[$1] } }
        let lens = model.logitLens(v)
        #expect(lens.count == c.vocabularySize)
        for t in 0..<c.vocabularySize { #expect(abs(Double(lens[t]) - expected[t]) < 1e-5 * max(1, abs(expected[t])), "token \(t)") }
        let top = model.logitLensTop(v, k: 5)
        #expect(top == Array(expected.indices.sorted { expected[$0] > expected[$1] }.prefix(5)))
    }
}
