import Engine
import Foundation

/// CAA's vector of one behaviour (`generate_vectors.py`): each item written twice, answered with the matching choice
/// (positive) and with the other (negative), `… [/INST] (A)`; at every chosen layer the mean over items of the
/// difference of the block outputs at token −2 (the answer letter, `)` being the last token). Sums run in Double.
public struct CAAVectorBuilder: Sendable {
    public var model: LlamaModel
    public var layers: [Int]
    /// Items per forward pass (each item is two sequences).
    public var batchSize: Int

    public init(model: LlamaModel, layers: [Int], batchSize: Int = 8) {
        self.model = model
        self.layers = layers.sorted()
        self.batchSize = max(1, batchSize)
    }

    /// The running sums of an unfinished build: `positive − negative` per layer, over the first `count` items.
    public struct Sums: Sendable, Equatable, Codable {
        public var count: Int
        public var difference: [Int: [Double]]

        public init(count: Int, difference: [Int: [Double]]) {
            self.count = count
            self.difference = difference
        }

        /// The mean difference per layer, as fp32.
        public var mean: [Int: [Float]] {
            difference.mapValues { sums in sums.map { Float($0 / Double(max(count, 1))) } }
        }
    }

    /// Adds the pairs of tokens (positive, negative) to `sums`, `batchSize` items at a time; `beforeBatch` gets the
    /// sums so far before each batch and may throw to stop (a cancelled run, after saving them).
    public func accumulate(_ pairs: [(positive: [Int], negative: [Int])], into sums: inout Sums,
                           beforeBatch: (Sums) throws -> Void = { _ in }) rethrows {
        let d = model.config.embeddingLength, top = (layers.last ?? 0) + 1
        for l in layers where sums.difference[l] == nil { sums.difference[l] = [Double](repeating: 0, count: d) }
        for start in stride(from: sums.count, to: pairs.count, by: batchSize) {
            try beforeBatch(sums)
            let batch = pairs[start..<min(start + batchSize, pairs.count)]
            var items = batch.flatMap { [$0.positive, $0.negative] }.map { tokens in
                ForwardItem(tokens: tokens, cache: model.makeCache(reserve: tokens.count),
                            interventions: layers.map { .capture(.block($0), positions: .fromEnd([1])) }, logits: .none)
            }
            let outputs = model.forward(&items, blocks: 0..<top, finish: false)
            for k in 0..<batch.count {
                let positive = outputs[2 * k].captures, negative = outputs[2 * k + 1].captures
                for (i, l) in layers.enumerated() {
                    let p = positive[i].values, n = negative[i].values
                    sums.difference[l]!.withUnsafeMutableBufferPointer { s in
                        for j in 0..<d { s[j] += Double(p[j]) - Double(n[j]) }
                    }
                }
            }
            sums.count += batch.count
        }
    }
}
