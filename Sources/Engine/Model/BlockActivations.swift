import ModelFormats

/// The tensors of one decoder block's forward pass over a ragged batch of T rows (every new token of every
/// sequence), named as in the block's equations:
///
///     h = x + O · attention(RoPE(QKV · RMSNorm(x)))                          attention sub-block
///     y = h + Down · (silu(Gate · RMSNorm(h)) ⊙ (Up · RMSNorm(h)))           MLP sub-block
///
/// The buffers are allocated once per pass and reused by every block; `advance()` makes a block's output the
/// next block's input. The backward pass and the `ActivationTape` use the same names.
struct BlockActivations {
    /// Block input [T × d].
    var x: FloatBuffer
    /// RMSNorm(x), then RMSNorm(h) [T × d] (scratch).
    let normed: FloatBuffer
    /// Q, K, V after bias and RoPE [T × (q + 2kv)].
    let qkv: FloatBuffer
    /// Attention output before the O projection [T × q].
    let attention: FloatBuffer
    /// Residual after the attention sub-block [T × d].
    let h: FloatBuffer
    /// Gate and up projections [T × 2ff].
    let gateUp: FloatBuffer
    /// silu(gate) ⊙ up [T × ff].
    let hidden: FloatBuffer
    /// Block output [T × d].
    var y: FloatBuffer

    init(rows: Int, config c: ModelConfig) {
        let d = c.embeddingLength
        x = FloatBuffer(count: rows * d)
        normed = FloatBuffer(count: rows * d)
        qkv = FloatBuffer(count: rows * (c.queryWidth + 2 * c.keyValueWidth))
        attention = FloatBuffer(count: rows * c.queryWidth)
        h = FloatBuffer(count: rows * d)
        gateUp = FloatBuffer(count: rows * 2 * c.feedForwardLength)
        hidden = FloatBuffer(count: rows * c.feedForwardLength)
        y = FloatBuffer(count: rows * d)
    }

    /// The block's output becomes the next block's input.
    mutating func advance() { swap(&x, &y) }
}
