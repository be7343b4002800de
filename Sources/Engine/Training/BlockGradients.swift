import ModelFormats

/// Gradients of one block's weights: the same layout as the weights themselves, always fp32.
public typealias BlockGradients = BlockWeights

extension BlockWeights {
    /// Zero buffers shaped like `w` (gradients, optimizer moments).
    public init(zerosLike w: BlockWeights) {
        self.init(attentionNorm: FloatBuffer(count: w.attentionNorm.count), qkv: ProjectionWeight(zeros: w.qkv.rows, w.qkv.columns),
                  qkvBias: w.qkvBias.map { FloatBuffer(count: $0.count) },
                  attentionOutput: ProjectionWeight(zeros: w.attentionOutput.rows, w.attentionOutput.columns),
                  ffnNorm: FloatBuffer(count: w.ffnNorm.count), gateUp: ProjectionWeight(zeros: w.gateUp.rows, w.gateUp.columns),
                  down: ProjectionWeight(zeros: w.down.rows, w.down.columns))
    }

    /// Sets every value to zero.
    public func zero() { for b in buffers { b.buffer.update(repeating: 0) } }

    /// One GGUF-named tensor of this block (`attn_v.weight`, `ffn_up.weight`, ...) in row-major `[out × in]`
    /// order, sliced out of the stacked Q/K/V and gate/up buffers.
    public func tensor(_ name: String, config c: ModelConfig) -> [Float]? {
        BlockTensor(rawValue: name).flatMap { values(of: $0, config: c) }
    }
}
