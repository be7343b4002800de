import Foundation

/// A side effect of steering: KL(base ‖ steered) between the next-token distributions of the unsteered and the
/// steered model at the same positions of neutral text, in nats (softmaxes and sums in Double).
public enum NextTokenKL {
    /// KL(p ‖ q) for p = softmax(base), q = softmax(steered), one position's logits each.
    public static func divergence(base: ArraySlice<Float>, steered: ArraySlice<Float>) -> Double {
        precondition(base.count == steered.count, "NextTokenKL: \(base.count) base logits, \(steered.count) steered")
        let logP = logSoftmax(base), logQ = logSoftmax(steered)
        var kl = 0.0
        for i in logP.indices where logP[i] > -.infinity { kl += exp(logP[i]) * (logP[i] - logQ[i]) }
        return max(kl, 0)
    }

    /// The mean KL over positions: `base` and `steered` hold `positions` rows of `vocabulary` logits each.
    public static func mean(base: [Float], steered: [Float], vocabulary: Int) -> Double {
        precondition(vocabulary > 0 && base.count == steered.count && base.count % vocabulary == 0)
        let rows = base.count / vocabulary
        guard rows > 0 else { return 0 }
        var sum = 0.0
        for r in 0..<rows {
            let range = r * vocabulary..<(r + 1) * vocabulary
            sum += divergence(base: base[range], steered: steered[range])
        }
        return sum / Double(rows)
    }

    static func logSoftmax(_ logits: ArraySlice<Float>) -> [Double] {
        let logZ = ExactLogSumExp.of(logits)
        return logits.map { Double($0) - logZ }
    }
}
