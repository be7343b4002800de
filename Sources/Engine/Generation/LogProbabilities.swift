import Foundation

extension LlamaModel {
    /// `log p(tokens[i] | tokens[..<i])` for every `i` in `scored` (natural log), from one forward pass per
    /// sequence, many sequences batched together.
    ///
    /// - Parameter sequences: token sequences with the range of positions to score in each (every position ≥ 1).
    public func logProbabilities(_ sequences: [(tokens: [Int], scored: Range<Int>)],
                                 interventions: [Intervention] = []) -> [[Double]] {
        var items = sequences.map { s in
            ForwardItem(tokens: Array(s.tokens[..<s.scored.upperBound].dropLast()), cache: makeCache(),
                        interventions: interventions, logits: .all)
        }
        let outputs = forward(&items)
        let vocab = config.vocabularySize
        return zip(sequences, outputs).map { s, out in
            out.logits.withUnsafeBufferPointer { logits in
                s.scored.map { i in
                    // Logits of position i−1 predict token i.
                    let row = logits.baseAddress! + (i - 1) * vocab
                    return Double(row[s.tokens[i]]) - ActivationKernels.logSumExp(row, count: vocab)
                }
            }
        }
    }

    /// Total log-probability of each continuation given the prompt (e.g. the answer letters " A" and " B").
    public func continuationLogProbabilities(prompt: [Int], continuations: [[Int]],
                                             interventions: [Intervention] = []) -> [Double] {
        let sequences = continuations.map { c in (tokens: prompt + c, scored: prompt.count..<(prompt.count + c.count)) }
        return logProbabilities(sequences, interventions: interventions).map { $0.reduce(0, +) }
    }
}
