import Engine

/// cos(h_L, v_L) at every chosen block × token positions around the start of generation, averaged over prompts:
/// the paper's Figure 1, for one model.
///
/// Positions are offsets from the last prompt token: −10 … 0 are prompt tokens, 1 … g are the first g tokens the
/// model itself generates greedily (position 0's logits choose token 1). A prompt shorter than an offset reaches
/// does not contribute to that offset's mean; an offset no prompt reaches is NaN.
public struct CosineMap: Sendable, Equatable {
    public var layers: [Int]
    public var positions: [Int]
    /// `values[i][j]`: mean cosine at `layers[i]`, `positions[j]`.
    public var values: [[Double]]

    /// Measures `model` on `prompts` (token ids) against `directions` (one per layer).
    public static func measure(_ model: LlamaModel, prompts: [[Int]], directions: [Int: [Float]], layers: [Int],
                               before: Int = 10, generated: Int = 3, batchSize: Int = 16) -> CosineMap {
        let layers = layers.filter { directions[$0] != nil }
        let positions = Array(-before...generated)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: positions.count), count: layers.count)
        var counts = [Int](repeating: 0, count: positions.count)
        let d = model.config.embeddingLength
        for start in stride(from: 0, to: prompts.count, by: max(batchSize, 1)) {
            let batch = Array(prompts[start..<min(start + batchSize, prompts.count)])
            let continuations = generated > 0
                ? model.generate(batch.map { GenerationRequest(prompt: $0) }, options: GenerationOptions(maxNewTokens: generated)).map(\.tokens)
                : batch.map { _ in [Int]() }
            var items: [ForwardItem] = []
            var read: [[(column: Int, position: Int)]] = []
            for (prompt, continuation) in zip(batch, continuations) {
                let last = prompt.count - 1
                let tokens = prompt + continuation
                let wanted = positions.enumerated().compactMap { j, o in
                    (0..<tokens.count).contains(last + o) ? (column: j, position: last + o) : nil
                }
                read.append(wanted)
                items.append(ForwardItem(tokens: tokens, cache: model.makeCache(),
                                         interventions: layers.map { .capture(.block($0), positions: .positions(wanted.map(\.position))) },
                                         logits: .none))
            }
            let outputs = model.forward(&items, blocks: 0..<((layers.max() ?? 0) + 1))
            for (out, wanted) in zip(outputs, read) {
                for w in wanted { counts[w.column] += 1 }
                for (i, capture) in out.captures.enumerated() {
                    let v = directions[layers[i]]!
                    for (k, position) in capture.positions.enumerated() {
                        guard let w = wanted.first(where: { $0.position == position }) else { continue }
                        sums[i][w.column] += Cosine.of(capture.values[k * d..<(k + 1) * d], v)
                    }
                }
            }
        }
        let values = sums.map { row in row.enumerated().map { j, s in counts[j] > 0 ? s / Double(counts[j]) : .nan } }
        return CosineMap(layers: layers, positions: positions, values: values)
    }
}
