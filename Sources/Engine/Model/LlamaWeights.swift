import ModelFormats

/// The weights of one decoder block, laid out for one product per projection group.
public struct BlockWeights: Sendable {
    /// RMSNorm weight before attention `[d]`.
    public var attentionNorm: FloatBuffer
    /// Q, K and V projections stacked by rows: `[(q + 2·kv) × d]`, rows in the order Q, K, V.
    public var qkv: ProjectionWeight
    /// Q, K, V biases stacked the same way (Qwen2), or nil.
    public var qkvBias: FloatBuffer?
    /// Attention output projection `[d × q]`.
    public var attentionOutput: ProjectionWeight
    /// RMSNorm weight before the MLP `[d]`.
    public var ffnNorm: FloatBuffer
    /// Gate and up projections stacked by rows: `[2·ff × d]`, gate first.
    public var gateUp: ProjectionWeight
    /// Down projection `[d × ff]`.
    public var down: ProjectionWeight

    public init(attentionNorm: FloatBuffer, qkv: ProjectionWeight, qkvBias: FloatBuffer?,
                attentionOutput: ProjectionWeight, ffnNorm: FloatBuffer, gateUp: ProjectionWeight, down: ProjectionWeight) {
        self.attentionNorm = attentionNorm
        self.qkv = qkv
        self.qkvBias = qkvBias
        self.attentionOutput = attentionOutput
        self.ffnNorm = ffnNorm
        self.gateUp = gateUp
        self.down = down
    }

    /// The four projections, in a fixed order.
    public var projections: [ProjectionWeight] { [qkv, attentionOutput, gateUp, down] }

    /// Whether every projection has fp32 values (so the block can be trained or written tensor by tensor).
    public var isFP32: Bool { projections.allSatisfy { !$0.isNative } }

    /// Every fp32 buffer in a fixed order (weights and their gradients are walked in step by the optimizer).
    /// Only for blocks with fp32 values (`isFP32`).
    public var buffers: [FloatBuffer] {
        [attentionNorm, qkv.values!, attentionOutput.values!, ffnNorm, gateUp.values!, down.values!]
            + (qkvBias.map { [$0] } ?? [])
    }

    /// An independent fp32 copy (for training a block without touching the shared base weights; native weights are
    /// decoded). The copy keeps no encoded form: its values may change.
    public func copy() -> BlockWeights {
        BlockWeights(attentionNorm: attentionNorm.copy(), qkv: qkv.fp32Copy(), qkvBias: qkvBias?.copy(),
                     attentionOutput: attentionOutput.fp32Copy(), ffnNorm: ffnNorm.copy(), gateUp: gateUp.fp32Copy(),
                     down: down.fp32Copy())
    }

    /// Bytes of fp32 values held, and bytes of encoded weights read in place.
    public var fp32Bytes: Int {
        projections.reduce(0) { $0 + $1.fp32Bytes } + 4 * (attentionNorm.count + ffnNorm.count + (qkvBias?.count ?? 0))
    }
    public var encodedBytes: Int { projections.reduce(0) { $0 + $1.encodedBytes } }
}

/// Every weight of a Llama-family model, row-major `[out × in]`.
public struct LlamaWeights: Sendable {
    /// Token embeddings `[vocab × d]`.
    public var tokenEmbedding: ProjectionWeight
    public var blocks: [BlockWeights]
    /// Final RMSNorm weight `[d]`.
    public var outputNorm: FloatBuffer
    /// Output head `[vocab × d]`, or nil when tied to `tokenEmbedding`.
    public var output: ProjectionWeight?

    public init(tokenEmbedding: ProjectionWeight, blocks: [BlockWeights], outputNorm: FloatBuffer,
                output: ProjectionWeight?) {
        self.tokenEmbedding = tokenEmbedding
        self.blocks = blocks
        self.outputNorm = outputNorm
        self.output = output
    }

    /// The matrix the output head multiplies by.
    public var head: ProjectionWeight { output ?? tokenEmbedding }

    /// Number of weights.
    public var parameterCount: Int {
        tokenEmbedding.count + outputNorm.count + (output?.count ?? 0)
            + blocks.reduce(0) { total, b in
                total + b.projections.reduce(0) { $0 + $1.count } + b.attentionNorm.count + b.ffnNorm.count
                    + (b.qkvBias?.count ?? 0)
            }
    }

    /// Bytes of fp32 values held (allocated), and bytes of the file's encoded weights the engine reads in place.
    public var fp32Bytes: Int {
        tokenEmbedding.fp32Bytes + (output?.fp32Bytes ?? 0) + 4 * outputNorm.count + blocks.reduce(0) { $0 + $1.fp32Bytes }
    }
    public var encodedBytes: Int {
        tokenEmbedding.encodedBytes + (output?.encodedBytes ?? 0) + blocks.reduce(0) { $0 + $1.encodedBytes }
    }
}
