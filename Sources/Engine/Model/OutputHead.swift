import ModelFormats

extension LlamaModel {
    /// Embedding: row r of `x` [T × d] becomes the embedding of row r's token. The embeddings are never trained,
    /// so there is no backward.
    func embed(_ items: [ForwardItem], _ batch: RaggedBatch, into x: FloatBuffer) {
        let d = config.embeddingLength
        for (i, item) in items.enumerated() {
            for (t, token) in item.tokens.enumerated() {
                weights.tokenEmbedding.row(token, into: x.pointer + (batch.rowStart[i] + t) * d)
            }
        }
    }

    /// Final norm and output head on `rows` of `x` [T × d]: `logits = Head · RMSNorm(x[r])` [rows × vocab], and the
    /// normed rows [rows × d]. With `normalized`, `x` already holds RMSNorm's output (a pass whose hooks read it).
    func headForward(_ x: UnsafePointer<Float>, rows: [Int], normalized: Bool = false) -> (normed: FloatBuffer, logits: FloatBuffer) {
        let d = config.embeddingLength, vocab = config.vocabularySize
        let normed = FloatBuffer(count: max(rows.count, 1) * d)
        for (k, r) in rows.enumerated() {
            if normalized {
                (normed.pointer + k * d).update(from: x + r * d, count: d)
            } else {
                RMSNormKernel.apply(x + r * d, rows: 1, width: d, weight: weights.outputNorm.pointer, epsilon: config.rmsEpsilon,
                                    into: normed.pointer + k * d)
            }
        }
        let logits = FloatBuffer(count: max(rows.count, 1) * vocab)
        if !rows.isEmpty { weights.head.project(normed.pointer, rows: rows.count, into: logits.pointer, precise: true) }
        return (normed, logits)
    }

    /// Backward of `headForward` (the final norm's weight is not trained): from ∂loss/∂logits [rows × vocab] to
    /// ∂loss/∂x [T × d], zero on the rows not listed, summed on a row listed twice.
    func headBackward(_ x: UnsafePointer<Float>, totalRows T: Int, rows: [Int], dLogits: FloatBuffer) -> [Float] {
        let d = config.embeddingLength
        let dNormed = FloatBuffer(count: rows.count * d)
        weights.head.transposedProduct(dLogits.pointer, rows: rows.count, into: dNormed.pointer)
        var dx = [Float](repeating: 0, count: T * d)
        dx.withUnsafeMutableBufferPointer { g in
            for (k, r) in rows.enumerated() {
                BackwardKernels.rmsNorm(x: x + r * d, dy: dNormed.pointer + k * d, rows: 1, width: d, weight: weights.outputNorm.pointer,
                                        epsilon: config.rmsEpsilon, dx: g.baseAddress! + r * d, dw: nil)
            }
        }
        return dx
    }
}
