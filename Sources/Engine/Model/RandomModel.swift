import ModelFormats

extension LlamaModel {
    /// A model with seeded random weights (normal-ish, scaled by 1/√fan-in; norms near 1), for tests and
    /// benchmarks that need no file.
    public static func random(config: ModelConfig, seed: UInt64) -> LlamaModel {
        var g = SeededGenerator(seed: seed)
        func buffer(_ n: Int, scale: Float, offset: Float = 0) -> FloatBuffer {
            let b = FloatBuffer(count: n)
            for i in 0..<n { b[i] = offset + scale * (g.nextUnit() + g.nextUnit() + g.nextUnit() - 1.5) }
            return b
        }
        let d = config.embeddingLength, ff = config.feedForwardLength
        let qkvRows = config.queryWidth + 2 * config.keyValueWidth
        let fanIn = { (n: Int) in 1 / Float(n).squareRoot() }
        func matrix(_ rows: Int, _ columns: Int, scale: Float) -> ProjectionWeight {
            ProjectionWeight(values: buffer(rows * columns, scale: scale), rows: rows, columns: columns)
        }
        let blocks = (0..<config.blockCount).map { _ in
            BlockWeights(attentionNorm: buffer(d, scale: 0.2, offset: 1), qkv: matrix(qkvRows, d, scale: fanIn(d)),
                         qkvBias: config.attentionBias ? buffer(qkvRows, scale: 0.1) : nil,
                         attentionOutput: matrix(d, config.queryWidth, scale: fanIn(config.queryWidth)),
                         ffnNorm: buffer(d, scale: 0.2, offset: 1), gateUp: matrix(2 * ff, d, scale: fanIn(d)),
                         down: matrix(d, ff, scale: fanIn(ff)))
        }
        return LlamaModel(config: config, weights: LlamaWeights(
            tokenEmbedding: matrix(config.vocabularySize, d, scale: 1), blocks: blocks,
            outputNorm: buffer(d, scale: 0.2, offset: 1),
            output: config.tiedEmbeddings ? nil : matrix(config.vocabularySize, d, scale: fanIn(d))))
    }
}
