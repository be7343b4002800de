import ModelFormats

extension LlamaModel {
    /// Back-propagates through the blocks recorded on `tape`, from the top down to `tape.blocks.lowerBound`.
    ///
    /// - Parameters:
    ///   - finalInputGradient: ∂loss/∂(input of the final norm), `[tokens × d]`, or nil when no loss reads the head.
    ///   - blockOutputGradients: extra ∂loss/∂(output of block L), `[tokens × d]`, by L (the cosine losses).
    ///   - trainable: blocks whose weights receive gradients (others are only passed through).
    ///   - gradients: accumulated into (`+=`), by block.
    /// - Returns: ∂loss/∂(input of the lowest recorded block).
    @discardableResult
    public func backward(tape: ActivationTape, finalInputGradient: [Float]?, blockOutputGradients: [Int: [Float]],
                         trainable: Set<Int>, into gradients: [Int: BlockGradients]) -> [Float] {
        let T = tape.totalRows, d = config.embeddingLength
        let g = FloatBuffer(count: T * d)
        if let f = finalInputGradient { f.withUnsafeBufferPointer { g.pointer.update(from: $0.baseAddress!, count: T * d) } }
        for l in tape.blocks.reversed() {
            if let extra = blockOutputGradients[l] {
                extra.withUnsafeBufferPointer { ActivationKernels.add($0.baseAddress!, into: g.pointer, count: T * d) }
            }
            blockBackward(l, tape: tape, gradient: g, into: trainable.contains(l) ? gradients[l] : nil)
        }
        return g.array
    }

    /// One block's backward, the MLP sub-block then the attention sub-block: `g` holds ∂loss/∂y (block output) on
    /// entry and ∂loss/∂x (block input) on return. A frozen block may hold native weights: its data gradients go
    /// through `ProjectionWeight.transposedProduct`.
    func blockBackward(_ l: Int, tape: ActivationTape, gradient g: FloatBuffer, into grads: BlockGradients?) {
        let recorded = tape.block(l)
        mlpBackward(block: l, recorded, rows: tape.totalRows, gradient: g, into: grads)
        attentionBackward(block: l, recorded, rows: tape, gradient: g, into: grads)
    }
}
