import Foundation

/// CAA's A/B measure of one item: the next-token probabilities of "A" and "B" after `… [/INST] (` (a softmax over
/// the whole vocabulary at the last position), and the probability of the matching answer normalised over the two,
/// `P(match) / (P(A) + P(B))`, which CAA's plots average over the items.
public struct MatchingProbability: Sendable, Equatable {
    public let a: Double
    public let b: Double
    /// The matching answer's letter ("A" or "B").
    public let matching: String

    /// From the last position's logits and the token ids of "A" and "B"; the softmax runs in Double.
    public init(logits: ArraySlice<Float>, aToken: Int, bToken: Int, matching: String) {
        precondition(matching == "A" || matching == "B", "MatchingProbability: the matching answer is \(matching), not A or B")
        let lse = ExactLogSumExp.of(logits)
        a = exp(Double(logits[logits.startIndex + aToken]) - lse)
        b = exp(Double(logits[logits.startIndex + bToken]) - lse)
        self.matching = matching
    }

    /// `P(match) / (P(A) + P(B))`.
    public var normalised: Double { (matching == "A" ? a : b) / (a + b) }

    /// The two letters' share of the whole next-token distribution: how much of the model's answer is A or B.
    public var abMass: Double { a + b }
}
