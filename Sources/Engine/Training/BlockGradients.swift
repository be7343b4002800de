import ModelFormats

/// Gradients of one block's weights: the same layout as the weights themselves.
public typealias BlockGradients = BlockWeights

extension BlockWeights {
    /// Zero buffers shaped like `w` (gradients, optimizer moments).
    public init(zerosLike w: BlockWeights) {
        self.init(attentionNorm: FloatBuffer(count: w.attentionNorm.count), qkv: FloatBuffer(count: w.qkv.count),
                  qkvBias: w.qkvBias.map { FloatBuffer(count: $0.count) },
                  attentionOutput: FloatBuffer(count: w.attentionOutput.count), ffnNorm: FloatBuffer(count: w.ffnNorm.count),
                  gateUp: FloatBuffer(count: w.gateUp.count), down: FloatBuffer(count: w.down.count))
    }

    /// Sets every value to zero.
    public func zero() { for b in buffers { b.buffer.update(repeating: 0) } }

    /// One GGUF-named tensor of this block (`attn_v.weight`, `ffn_up.weight`, ...) as `[out × in]`, sliced out of
    /// the stacked Q/K/V and gate/up buffers.
    public func tensor(_ name: String, config c: ModelConfig) -> [Float]? {
        let d = c.embeddingLength, qW = c.queryWidth, kvW = c.keyValueWidth, ff = c.feedForwardLength
        switch name {
        case "attn_norm.weight": return attentionNorm.array
        case "ffn_norm.weight": return ffnNorm.array
        case "attn_q.weight": return qkv.slice(0, qW * d)
        case "attn_k.weight": return qkv.slice(qW * d, kvW * d)
        case "attn_v.weight": return qkv.slice((qW + kvW) * d, kvW * d)
        case "attn_output.weight": return attentionOutput.array
        case "ffn_gate.weight": return gateUp.slice(0, ff * d)
        case "ffn_up.weight": return gateUp.slice(ff * d, ff * d)
        case "ffn_down.weight": return down.array
        default: return nil
        }
    }
}
