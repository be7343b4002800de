import ModelFormats

/// One tensor of a decoder block: its GGUF and Hugging Face names, its shape, and where it lives in
/// `BlockWeights` (Q/K/V stacked into `qkv`, gate/up into `gateUp`). Every loader, writer and the tuner's variant
/// files go through this one table.
public enum BlockTensor: String, CaseIterable, Sendable {
    // Loading order (the first missing tensor is the one an error names): the stacked ones, then the rest.
    case query = "attn_q.weight", key = "attn_k.weight", value = "attn_v.weight"
    case queryBias = "attn_q.bias", keyBias = "attn_k.bias", valueBias = "attn_v.bias"
    case gate = "ffn_gate.weight", up = "ffn_up.weight"
    case attentionNorm = "attn_norm.weight"
    case attentionOutput = "attn_output.weight"
    case ffnNorm = "ffn_norm.weight"
    case down = "ffn_down.weight"

    /// The name inside a GGUF block (`blk.N.` + this).
    public var ggufName: String { rawValue }

    /// The name inside a Hugging Face layer (`model.layers.N.` + this).
    public var huggingFaceName: String {
        switch self {
        case .attentionNorm: "input_layernorm.weight"
        case .query: "self_attn.q_proj.weight"
        case .key: "self_attn.k_proj.weight"
        case .value: "self_attn.v_proj.weight"
        case .queryBias: "self_attn.q_proj.bias"
        case .keyBias: "self_attn.k_proj.bias"
        case .valueBias: "self_attn.v_proj.bias"
        case .attentionOutput: "self_attn.o_proj.weight"
        case .ffnNorm: "post_attention_layernorm.weight"
        case .gate: "mlp.gate_proj.weight"
        case .up: "mlp.up_proj.weight"
        case .down: "mlp.down_proj.weight"
        }
    }

    public var isBias: Bool { self == .queryBias || self == .keyBias || self == .valueBias }

    /// The tensors a model with `config` has (biases only with Q/K/V biases).
    public static func present(_ config: ModelConfig) -> [BlockTensor] {
        allCases.filter { !$0.isBias || config.attentionBias }
    }

    /// Row-major shape: `[out, in]` for matrices (the HF shape), `[n]` for vectors; GGUF lists it reversed.
    public func shape(_ c: ModelConfig) -> [Int] {
        let d = c.embeddingLength, q = c.queryWidth, kv = c.keyValueWidth, ff = c.feedForwardLength
        return switch self {
        case .attentionNorm, .ffnNorm: [d]
        case .query: [q, d]
        case .key, .value: [kv, d]
        case .queryBias: [q]
        case .keyBias, .valueBias: [kv]
        case .attentionOutput: [d, q]
        case .gate, .up: [ff, d]
        case .down: [d, ff]
        }
    }

    /// The buffer of `w` holding this tensor and the offset of its first value (nil: a bias the block lacks).
    public func storage(in w: BlockWeights, _ c: ModelConfig) -> (buffer: FloatBuffer, offset: Int)? {
        let d = c.embeddingLength, q = c.queryWidth, kv = c.keyValueWidth, ff = c.feedForwardLength
        switch self {
        case .attentionNorm: return (w.attentionNorm, 0)
        case .query: return (w.qkv, 0)
        case .key: return (w.qkv, q * d)
        case .value: return (w.qkv, (q + kv) * d)
        case .queryBias: return w.qkvBias.map { ($0, 0) }
        case .keyBias: return w.qkvBias.map { ($0, q) }
        case .valueBias: return w.qkvBias.map { ($0, q + kv) }
        case .attentionOutput: return (w.attentionOutput, 0)
        case .ffnNorm: return (w.ffnNorm, 0)
        case .gate: return (w.gateUp, 0)
        case .up: return (w.gateUp, ff * d)
        case .down: return (w.down, 0)
        }
    }
}

extension BlockWeights {
    /// Zero-filled buffers for a block of a model with `config`.
    public init(config c: ModelConfig) {
        let d = c.embeddingLength, stacked = c.queryWidth + 2 * c.keyValueWidth, ff = c.feedForwardLength
        self.init(attentionNorm: FloatBuffer(count: d), qkv: FloatBuffer(count: stacked * d),
                  qkvBias: c.attentionBias ? FloatBuffer(count: stacked) : nil,
                  attentionOutput: FloatBuffer(count: d * c.queryWidth), ffnNorm: FloatBuffer(count: d),
                  gateUp: FloatBuffer(count: 2 * ff * d), down: FloatBuffer(count: d * ff))
    }

    /// Fills a block tensor by tensor: `fill(tensor, destination)` writes each tensor's values.
    public init(config c: ModelConfig, fill: (BlockTensor, UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.init(config: c)
        for t in BlockTensor.present(c) {
            let (buffer, offset) = t.storage(in: self, c)!
            try fill(t, UnsafeMutableBufferPointer(start: buffer.pointer + offset, count: t.shape(c).reduce(1, *)))
        }
    }

    /// A copy of one tensor's values, in row-major order.
    public func values(of t: BlockTensor, config c: ModelConfig) -> [Float]? {
        t.storage(in: self, c).map { $0.buffer.slice($0.offset, t.shape(c).reduce(1, *)) }
    }
}
