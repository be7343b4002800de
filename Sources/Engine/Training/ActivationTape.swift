/// The activations a forward pass keeps for the backward pass of the blocks in `blocks` (a training step).
///
/// Per block: its input, Q/K/V after RoPE, the attention output before the O projection, the residual between
/// attention and MLP, the gate/up projections and the gated hidden layer; and the input of the final norm.
/// Attention probabilities are not kept: the backward pass recomputes them from Q and K.
public final class ActivationTape: @unchecked Sendable {
    public let blocks: Range<Int>
    /// Row offset of each sequence in the ragged `[tokens × ·]` matrices, and each sequence's length.
    public internal(set) var rowStart: [Int] = []
    public internal(set) var lengths: [Int] = []
    var blockInput: [Int: [Float]] = [:]
    var qkv: [Int: [Float]] = [:]
    var attention: [Int: [Float]] = [:]
    var midResidual: [Int: [Float]] = [:]
    var gateUp: [Int: [Float]] = [:]
    var hidden: [Int: [Float]] = [:]
    /// The output of the last recorded block (the final norm's input when that block is the model's last).
    public internal(set) var output: [Float]?

    public init(blocks: Range<Int>) { self.blocks = blocks }

    public var totalRows: Int { lengths.reduce(0, +) }

    static func copy(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: p, count: count))
    }
}
