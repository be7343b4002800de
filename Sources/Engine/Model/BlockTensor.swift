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

    /// Where this tensor lives in `w`: its projection and the offset of its first value, or its fp32 vector.
    enum Location {
        case projection(ProjectionWeight, offset: Int)
        case vector(FloatBuffer, offset: Int)
    }

    /// Where this tensor lives in `w` (nil: a bias the block lacks).
    func location(in w: BlockWeights, _ c: ModelConfig) -> Location? {
        let d = c.embeddingLength, q = c.queryWidth, kv = c.keyValueWidth, ff = c.feedForwardLength
        switch self {
        case .attentionNorm: return .vector(w.attentionNorm, offset: 0)
        case .query: return .projection(w.qkv, offset: 0)
        case .key: return .projection(w.qkv, offset: q * d)
        case .value: return .projection(w.qkv, offset: (q + kv) * d)
        case .queryBias: return w.qkvBias.map { .vector($0, offset: 0) }
        case .keyBias: return w.qkvBias.map { .vector($0, offset: q) }
        case .valueBias: return w.qkvBias.map { .vector($0, offset: q + kv) }
        case .attentionOutput: return .projection(w.attentionOutput, offset: 0)
        case .ffnNorm: return .vector(w.ffnNorm, offset: 0)
        case .gate: return .projection(w.gateUp, offset: 0)
        case .up: return .projection(w.gateUp, offset: ff * d)
        case .down: return .projection(w.down, offset: 0)
        }
    }

    /// The fp32 buffer of `w` holding this tensor and the offset of its first value (nil: a bias the block lacks).
    /// Only for blocks with fp32 values (`BlockWeights.isFP32`).
    public func storage(in w: BlockWeights, _ c: ModelConfig) -> (buffer: FloatBuffer, offset: Int)? {
        switch location(in: w, c) {
        case .projection(let p, let offset)?:
            guard let values = p.values else {
                preconditionFailure("BlockTensor.storage: \(rawValue) is held in native form; take an fp32 copy first")
            }
            return (values, offset)
        case .vector(let b, let offset)?: return (b, offset)
        case nil: return nil
        }
    }
}

extension BlockWeights {
    /// Zero-filled fp32 buffers for a block of a model with `config`.
    public init(config c: ModelConfig) {
        let d = c.embeddingLength, stacked = c.queryWidth + 2 * c.keyValueWidth, ff = c.feedForwardLength
        self.init(attentionNorm: FloatBuffer(count: d), qkv: ProjectionWeight(zeros: stacked, d),
                  qkvBias: c.attentionBias ? FloatBuffer(count: stacked) : nil,
                  attentionOutput: ProjectionWeight(zeros: d, c.queryWidth), ffnNorm: FloatBuffer(count: d),
                  gateUp: ProjectionWeight(zeros: 2 * ff, d), down: ProjectionWeight(zeros: d, ff))
    }

    /// Fills a block tensor by tensor: `fill(tensor, destination)` writes each tensor's values.
    public init(config c: ModelConfig, fill: (BlockTensor, UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.init(config: c)
        for t in BlockTensor.present(c) {
            let (buffer, offset) = t.storage(in: self, c)!
            try fill(t, UnsafeMutableBufferPointer(start: buffer.pointer + offset, count: t.shape(c).reduce(1, *)))
        }
    }

    /// A copy of one tensor's values, in row-major order (native weights decoded).
    public func values(of t: BlockTensor, config c: ModelConfig) -> [Float]? {
        let n = t.shape(c).reduce(1, *)
        switch t.location(in: self, c) {
        case .projection(let p, let offset)?: return p.slice(offset, n)
        case .vector(let b, let offset)?: return b.slice(offset, n)
        case nil: return nil
        }
    }
}
