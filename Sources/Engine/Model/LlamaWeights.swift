import ModelFormats
import QuantizedKernels

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
    /// The same projection weights in the model file's block-quantized form, for decode steps (see
    /// `QuantizedMatMul`); nil when the file's types have no quantized kernel. Never mutated: a copy drops it.
    public var quantized: QuantizedBlock?

    public init(attentionNorm: FloatBuffer, qkv: FloatBuffer, qkvBias: FloatBuffer?, attentionOutput: FloatBuffer,
                ffnNorm: FloatBuffer, gateUp: FloatBuffer, down: FloatBuffer, quantized: QuantizedBlock? = nil) {
        self.attentionNorm = attentionNorm
        self.qkv = qkv
        self.qkvBias = qkvBias
        self.attentionOutput = attentionOutput
        self.ffnNorm = ffnNorm
        self.gateUp = gateUp
        self.down = down
        self.quantized = quantized
    }

    /// Every buffer in a fixed order (weights and their gradients are walked in step by the optimizer).
    public var buffers: [FloatBuffer] {
        [attentionNorm, qkv, attentionOutput, ffnNorm, gateUp, down] + (qkvBias.map { [$0] } ?? [])
    }

    /// An independent copy (for training a block without touching the shared base weights). The copy has no
    /// quantized form: its fp32 weights may change.
    public func copy() -> BlockWeights {
        BlockWeights(attentionNorm: attentionNorm.copy(), qkv: qkv.copy(), qkvBias: qkvBias?.copy(),
                     attentionOutput: attentionOutput.copy(), ffnNorm: ffnNorm.copy(), gateUp: gateUp.copy(),
                     down: down.copy())
    }
}

/// The block-quantized projection matrices of one block (stacked like the fp32 ones).
public struct QuantizedBlock: Sendable {
    public var qkv: QuantizedMatrix
    public var attentionOutput: QuantizedMatrix
    public var gateUp: QuantizedMatrix
    public var down: QuantizedMatrix

    public init(qkv: QuantizedMatrix, attentionOutput: QuantizedMatrix, gateUp: QuantizedMatrix, down: QuantizedMatrix) {
        self.qkv = qkv
        self.attentionOutput = attentionOutput
        self.gateUp = gateUp
        self.down = down
    }

    public var byteCount: Int { qkv.byteCount + attentionOutput.byteCount + gateUp.byteCount + down.byteCount }
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
    /// `head` in the model file's block-quantized form, for decode steps; nil when not available.
    public var quantizedHead: QuantizedMatrix?

    public init(tokenEmbedding: FloatBuffer, blocks: [BlockWeights], outputNorm: FloatBuffer, output: FloatBuffer?,
                quantizedHead: QuantizedMatrix? = nil) {
        self.tokenEmbedding = tokenEmbedding
        self.blocks = blocks
        self.outputNorm = outputNorm
        self.output = output
        self.quantizedHead = quantizedHead
    }

    /// Bytes of the quantized copies (blocks and head) held next to the fp32 weights.
    public var quantizedByteCount: Int {
        (quantizedHead?.byteCount ?? 0) + blocks.reduce(0) { $0 + ($1.quantized?.byteCount ?? 0) }
    }

    /// The matrix the output head multiplies by.
    public var head: FloatBuffer { output ?? tokenEmbedding }

    /// Number of fp32 values held.
    public var parameterCount: Int {
        tokenEmbedding.count + outputNorm.count + (output?.count ?? 0)
            + blocks.reduce(0) { total, b in total + b.buffers.reduce(0) { $0 + $1.count } }
    }
}
