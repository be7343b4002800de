import Engine
import Foundation
import ModelFormats

/// The cheaper, logit-based reading of an A/B answer: the probability mass the model puts on option A's tokens
/// vs option B's at the first answer position, instead of generating and parsing text.
///
/// Option A's tokens are the single-token encodings of "A", " A", "(A", " (A" (and "True"/" True" for the
/// true/false prompts, whose option A is True); option B's likewise. A spelling that takes several tokens is
/// left out.
public struct AnswerLogitScore: Sendable, Equatable {
    public var optionA: Set<Int>
    public var optionB: Set<Int>

    public init(tokenizer: Tokenizer, scorer: AnswerScorer) {
        func single(_ texts: [String]) -> Set<Int> {
            Set(texts.compactMap { t -> Int? in
                let ids = tokenizer.encode(t, addBOS: false, parseSpecial: false)
                return ids.count == 1 ? ids[0] : nil
            })
        }
        var a = ["A", " A", "(A", " (A"], b = ["B", " B", "(B", " (B"]
        if scorer == .trueFalse {
            a += ["True", " True", "true", " true"]
            b += ["False", " False", "false", " false"]
        }
        optionA = single(a)
        optionB = single(b)
    }

    /// P(A) / (P(A) + P(B)) from the logits of the first answer position (0.5 when neither has mass).
    public func shareOfA(logits: [Float]) -> Double {
        guard let top = logits.max() else { return 0.5 }
        var total = 0.0
        for x in logits { total += exp(Double(x - top)) }
        // In token order: a Set's iteration order differs between instances, and so would the sum's last bit.
        let mass = { (ids: Set<Int>) in ids.sorted().reduce(0.0) { $0 + ($1 < logits.count ? exp(Double(logits[$1] - top)) / total : 0) } }
        let pa = mass(optionA), pb = mass(optionB)
        return pa + pb > 0 ? pa / (pa + pb) : 0.5
    }
}
