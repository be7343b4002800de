import ModelFormats

/// Gradients of one block's weights, laid out as `BlockWeights` (Q/K/V stacked, gate/up stacked).
public struct BlockGradients: Sendable {
    public var attentionNorm: FloatBuffer
    public var qkv: FloatBuffer
    public var qkvBias: FloatBuffer?
    public var attentionOutput: FloatBuffer
    public var ffnNorm: FloatBuffer
    public var gateUp: FloatBuffer
    public var down: FloatBuffer

    /// Zero gradients shaped like `weights`.
    public init(zerosLike w: BlockWeights) {
        attentionNorm = FloatBuffer(count: w.attentionNorm.count)
        qkv = FloatBuffer(count: w.qkv.count)
        qkvBias = w.qkvBias.map { FloatBuffer(count: $0.count) }
        attentionOutput = FloatBuffer(count: w.attentionOutput.count)
        ffnNorm = FloatBuffer(count: w.ffnNorm.count)
        gateUp = FloatBuffer(count: w.gateUp.count)
        down = FloatBuffer(count: w.down.count)
    }

    /// Every buffer with its tensor role, in a fixed order (the optimizer walks them in step with the weights).
    public var buffers: [FloatBuffer] {
        [attentionNorm, qkv, attentionOutput, ffnNorm, gateUp, down] + (qkvBias.map { [$0] } ?? [])
    }

    /// Sets every gradient to zero.
    public func zero() { for b in buffers { b.buffer.update(repeating: 0) } }

    /// The gradient of one GGUF-named tensor of this block (`attn_v.weight`, `ffn_up.weight`, ...) as `[out × in]`.
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

