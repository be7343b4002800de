/// The activations a forward pass keeps for the backward pass of the blocks in `blocks` (a training step),
/// recorded through one hook: `record(_:block:)` after each block, with the names the block's forward and backward
/// use (`BlockActivations`). Attention probabilities are not kept: the backward pass recomputes them from Q and K.
public final class ActivationTape: @unchecked Sendable {
    /// One block's recorded tensors (T = tokens of the batch; shapes as in `BlockActivations`).
    struct Block {
        /// Block input `x` [T × d].
        var x: [Float]
        /// Q, K, V after bias and RoPE [T × (q + 2kv)].
        var qkv: [Float]
        /// Attention output before the O projection [T × q].
        var attention: [Float]
        /// Residual after the attention sub-block `h` [T × d].
        var h: [Float]
        /// Gate and up projections [T × 2ff].
        var gateUp: [Float]
        /// silu(gate) ⊙ up [T × ff].
        var hidden: [Float]
    }

    public let blocks: Range<Int>
    /// Row offset of each sequence in the ragged `[tokens × ·]` matrices, and each sequence's length.
    public internal(set) var rowStart: [Int] = []
    public internal(set) var lengths: [Int] = []
    var recorded: [Int: Block] = [:]
    /// The output of the last recorded block (the final norm's input when that block is the model's last).
    public internal(set) var output: [Float]?

    public init(blocks: Range<Int>) { self.blocks = blocks }

    public var totalRows: Int { lengths.reduce(0, +) }

    /// The hook the forward pass calls after block `l`: keeps copies of its tensors when `l` is in `blocks`.
    func record(_ a: BlockActivations, block l: Int) {
        guard blocks.contains(l) else { return }
        recorded[l] = Block(x: a.x.array, qkv: a.qkv.array, attention: a.attention.array, h: a.h.array,
                            gateUp: a.gateUp.array, hidden: a.hidden.array)
    }

    /// The hook the forward pass calls once its blocks have run: the rows' layout, and the last block's output
    /// when it is the tape's last.
    func finish(_ batch: RaggedBatch, blocksRun: Range<Int>, output: FloatBuffer) {
        rowStart = batch.rowStart
        lengths = batch.lengths
        if blocks.upperBound == blocksRun.upperBound { self.output = output.array }
    }

    /// The output of block `l` for every row, if recorded (the input of block l+1, or the tape's output).
    func blockOutput(_ l: Int) -> [Float]? {
        l + 1 == blocks.upperBound ? output : recorded[l + 1]?.x
    }

    func block(_ l: Int) -> Block {
        guard let b = recorded[l] else { preconditionFailure("block \(l) was not recorded on the tape") }
        return b
    }
}
