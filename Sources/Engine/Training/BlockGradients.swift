import ModelFormats

/// Gradients of one block's weights: the same layout as the weights themselves, always fp32.
public typealias BlockGradients = BlockWeights

extension BlockWeights {
    /// Zero buffers shaped like `w` (gradients, optimizer moments), from `allocate` (memory by default, or disk).
    public init(zerosLike w: BlockWeights) {
        self.init(zerosLike: w) { FloatBuffer(count: $0) }
    }

    public init(zerosLike w: BlockWeights, allocate: (Int) throws -> FloatBuffer) rethrows {
        func zeros(_ p: ProjectionWeight) throws -> ProjectionWeight {
            ProjectionWeight(values: try allocate(p.count), rows: p.rows, columns: p.columns)
        }
        self.init(attentionNorm: try allocate(w.attentionNorm.count), qkv: try zeros(w.qkv),
                  qkvBias: try w.qkvBias.map { try allocate($0.count) }, attentionOutput: try zeros(w.attentionOutput),
                  ffnNorm: try allocate(w.ffnNorm.count), gateUp: try zeros(w.gateUp), down: try zeros(w.down))
    }

    /// Sets every value to zero.
    public func zero() { for b in buffers { b.buffer.update(repeating: 0) } }

    /// One GGUF-named tensor of this block (`attn_v.weight`, `ffn_up.weight`, ...) in row-major `[out × in]`
    /// order, sliced out of the stacked Q/K/V and gate/up buffers.
    public func tensor(_ name: String, config c: ModelConfig) -> [Float]? {
        BlockTensor(rawValue: name).flatMap { values(of: $0, config: c) }
    }
}
