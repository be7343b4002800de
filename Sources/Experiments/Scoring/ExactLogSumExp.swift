import Foundation

/// `log Σ exp(logits)` in Double, shifted by the maximum: the normaliser of a next-token distribution for measures
/// reported to many digits (CAA's A/B probability, KL between distributions).
public enum ExactLogSumExp {
    public static func of(_ logits: ArraySlice<Float>) -> Double {
        let m = Double(logits.max() ?? 0)
        return m + log(logits.reduce(0.0) { $0 + exp(Double($1) - m) })
    }
}
