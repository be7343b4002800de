import ModelFormats

/// The fp32 weights of one decoder block, laid out for one sgemm per projection group.
public struct BlockWeights: Sendable {
    /// RMSNorm weight before attention `[d]`.
    public var attentionNorm: FloatBuffer
    /// Q, K and V projections stacked by rows: `[(q + 2·kv) × d]`, rows in the order Q, K, V.
    public var qkv: FloatBuffer
    /// Q, K, V biases stacked the same way (Qwen2), or nil.
    public var qkvBias: FloatBuffer?
    /// Attention output projection `[d × q]`.
    public var attentionOutput: FloatBuffer
    /// RMSNorm weight before the MLP `[d]`.
    public var ffnNorm: FloatBuffer
    /// Gate and up projections stacked by rows: `[2·ff × d]`, gate first.
    public var gateUp: FloatBuffer
    /// Down projection `[d × ff]`.
    public var down: FloatBuffer

    public init(attentionNorm: FloatBuffer, qkv: FloatBuffer, qkvBias: FloatBuffer?, attentionOutput: FloatBuffer,
                ffnNorm: FloatBuffer, gateUp: FloatBuffer, down: FloatBuffer) {
        self.attentionNorm = attentionNorm
        self.qkv = qkv
        self.qkvBias = qkvBias
        self.attentionOutput = attentionOutput
        self.ffnNorm = ffnNorm
        self.gateUp = gateUp
        self.down = down
    }

    /// Every buffer in a fixed order (weights and their gradients are walked in step by the optimizer).
    public var buffers: [FloatBuffer] {
        [attentionNorm, qkv, attentionOutput, ffnNorm, gateUp, down] + (qkvBias.map { [$0] } ?? [])
    }

    /// An independent copy (for training a block without touching the shared base weights).
    public func copy() -> BlockWeights {
        BlockWeights(attentionNorm: attentionNorm.copy(), qkv: qkv.copy(), qkvBias: qkvBias?.copy(),
                     attentionOutput: attentionOutput.copy(), ffnNorm: ffnNorm.copy(), gateUp: gateUp.copy(),
                     down: down.copy())
    }
}

/// Every weight of a Llama-family model in fp32, row-major `[out × in]`.
public struct LlamaWeights: Sendable {
    /// Token embeddings `[vocab × d]`.
    public var tokenEmbedding: FloatBuffer
    public var blocks: [BlockWeights]
    /// Final RMSNorm weight `[d]`.
    public var outputNorm: FloatBuffer
    /// Output head `[vocab × d]`, or nil when tied to `tokenEmbedding`.
    public var output: FloatBuffer?

    public init(tokenEmbedding: FloatBuffer, blocks: [BlockWeights], outputNorm: FloatBuffer, output: FloatBuffer?) {
        self.tokenEmbedding = tokenEmbedding
        self.blocks = blocks
        self.outputNorm = outputNorm
        self.output = output
    }

    /// The matrix the output head multiplies by.
    public var head: FloatBuffer { output ?? tokenEmbedding }

    /// Number of fp32 values held.
    public var parameterCount: Int {
        tokenEmbedding.count + outputNorm.count + (output?.count ?? 0)
            + blocks.reduce(0) { total, b in total + b.buffers.reduce(0) { $0 + $1.count } }
    }
}
