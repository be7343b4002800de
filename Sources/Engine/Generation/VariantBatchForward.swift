/// A forward pass over sequences that run on different variants of one base model (tuned variants: the base with
/// a few blocks' weights replaced, `LlamaModel.applying(variant:)`), as one batch.
///
/// The blocks every variant in the batch shares with the base run once over all sequences' tokens (one ragged
/// pass); a stretch of blocks where variants differ runs once per variant over its own sequences, resumed from and
/// stopped at the residual stream (`forward(_:blocks:residual:finish:)`). Each sequence's rows see exactly the
/// arithmetic of a pass on its own variant alone.
public enum VariantBatchForward {
    /// Runs `items[i]` on `models[variantOf[i]]`, every model a variant of `models[0]` (same config; a block is
    /// shared when its weight buffers are the same objects). Returns the outputs in `items`' order.
    public static func forward(_ items: inout [ForwardItem], variantOf: [Int], models: [LlamaModel]) -> [ForwardOutput] {
        precondition(variantOf.count == items.count && !models.isEmpty)
        let used = Set(variantOf).sorted()
        let base = models[0]
        if used.count == 1 { return models[used[0]].forward(&items) }
        // Stretches of blocks: nil = every variant in the batch uses the base's weights; else per variant.
        let blockCount = base.config.blockCount
        func shared(_ l: Int) -> Bool {
            used.allSatisfy { models[$0].weights.blocks[l].attentionNorm === base.weights.blocks[l].attentionNorm }
        }
        var stretches: [(range: Range<Int>, shared: Bool)] = []
        for l in 0..<blockCount {
            let s = shared(l)
            if let last = stretches.last, last.shared == s {
                stretches[stretches.count - 1].range = last.range.lowerBound..<(l + 1)
            } else {
                stretches.append((l..<(l + 1), s))
            }
        }
        let d = base.config.embeddingLength
        // Each item is moved out while its group runs, so its KV cache is uniquely referenced and grows in place.
        var slots: [ForwardItem?] = items.map { $0 }
        items.removeAll()
        var residual: [[Float]] = slots.map { _ in [] }
        var outputs: [ForwardOutput] = []
        for (n, stretch) in stretches.enumerated() {
            let last = n == stretches.count - 1
            let groups: [(model: LlamaModel, members: [Int])] = stretch.shared
                ? [(base, Array(slots.indices))]
                : used.map { v in (models[v], slots.indices.filter { variantOf[$0] == v }) }
            if last { outputs = Array(repeating: ForwardOutput(logitPositions: [], logits: [], vocabularySize: 0, captures: [],
                                                               residual: nil), count: slots.count) }
            for group in groups where !group.members.isEmpty {
                var part: [ForwardItem] = []
                for i in group.members {
                    part.append(slots[i]!)
                    slots[i] = nil
                }
                let interventions = part.map(\.interventions)
                let start = stretch.range.lowerBound
                if start > 0 {
                    // The previous stretch already applied the interventions at the output of block start − 1.
                    for k in part.indices { part[k].interventions.removeAll { $0.site == .block(start - 1) } }
                }
                var input: [Float]? = nil
                if start > 0 {
                    var x = [Float]()
                    x.reserveCapacity(part.reduce(0) { $0 + $1.tokens.count } * d)
                    for i in group.members { x.append(contentsOf: residual[i]) }
                    input = x
                }
                let out = group.model.forward(&part, blocks: stretch.range, residual: input, finish: last)
                for (k, i) in group.members.enumerated() {
                    part[k].interventions = interventions[k]
                    if last { outputs[i] = out[k] } else { residual[i] = out[k].residual ?? [] }
                }
                for (k, i) in group.members.enumerated() { slots[i] = part[k] }
            }
        }
        items = slots.map { $0! }
        return outputs
    }
}
