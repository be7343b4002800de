extension LlamaModel {
    /// The logit lens of a residual-stream vector: the output head applied to the final RMSNorm of `vector`, as if
    /// it were the residual after the last block (METHOD.md §3 diagnostics). Returns one logit per vocabulary entry.
    public func logitLens(_ vector: [Float]) -> [Float] {
        precondition(vector.count == config.embeddingLength, "logit lens: vector width \(vector.count) ≠ model width \(config.embeddingLength)")
        var items = [ForwardItem(tokens: [0], cache: makeCache(), logits: .last)]
        let out = forward(&items, blocks: config.blockCount..<config.blockCount, residual: vector)
        return Array(out[0].lastLogits)
    }

    /// The `k` vocabulary ids with the highest logit-lens scores of `vector`, best first.
    public func logitLensTop(_ vector: [Float], k: Int = 10) -> [Int] {
        let logits = logitLens(vector)
        return logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(k).map { $0 }
    }
}
