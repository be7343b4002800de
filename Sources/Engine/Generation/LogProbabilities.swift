import Foundation

extension LlamaModel {
    /// `log p(tokens[i] | tokens[..<i])` for every `i` in `scored` (natural log), from one forward pass per
    /// sequence, many sequences batched together.
    ///
    /// - Parameter sequences: token sequences with the range of positions to score in each (every position ≥ 1).
    public func logProbabilities(_ sequences: [(tokens: [Int], scored: Range<Int>)],
                                 interventions: [Intervention] = []) -> [[Double]] {
        // Logits of position i−1 predict token i: only the rows scored.lowerBound−1 ..< scored.upperBound−1 are needed.
        var items = sequences.map { s in
            ForwardItem(tokens: Array(s.tokens[..<s.scored.upperBound].dropLast()), cache: makeCache(),
                        interventions: interventions, logits: .from(s.scored.lowerBound - 1))
        }
        let outputs = forward(&items)
        let vocab = config.vocabularySize
        return zip(sequences, outputs).map { s, out in
            var result = [Double](repeating: 0, count: s.scored.count)
            out.logits.withUnsafeBufferPointer { logits in
                result.withUnsafeMutableBufferPointer { r in
                    let base = logits.baseAddress!, into = r.baseAddress!
                    ParallelLoop.rows(s.scored.count, grain: 32) { part in
                        for k in part {
                            let row = base + k * vocab
                            into[k] = Double(row[s.tokens[s.scored.lowerBound + k]]) - ActivationKernels.logSumExp(row, count: vocab)
                        }
                    }
                }
            }
            return result
        }
    }
}
