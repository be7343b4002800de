import Foundation

/// The standard normal distribution: CDF, survival function and quantile, as used by the statistical tests.
public enum StandardNormal {
    /// P(Z ≤ z).
    public static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// P(Z > z), accurate in the upper tail.
    public static func survival(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }

    /// Density φ(z).
    public static func pdf(_ z: Double) -> Double { exp(-0.5 * z * z) / (2 * Double.pi).squareRoot() }

    /// Two-sided p-value of a z statistic: P(|Z| ≥ |z|).
    public static func twoSidedP(_ z: Double) -> Double { min(1, 2 * survival(abs(z))) }

    /// The quantile z with P(Z ≤ z) = p, for 0 < p < 1 (bisection to a bracket, then Newton steps).
    public static func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "StandardNormal.quantile needs 0 < p < 1, got \(p)")
        if p == 0.5 { return 0 }
        // Work in the lower tail for accuracy and mirror.
        let q = min(p, 1 - p)
        var lo = -40.0, hi = 0.0
        for _ in 0..<60 {
            let mid = 0.5 * (lo + hi)
            if cdf(mid) < q { lo = mid } else { hi = mid }
        }
        var z = 0.5 * (lo + hi)
        for _ in 0..<3 {
            let density = pdf(z)
            guard density > 0 else { break }
            z -= (cdf(z) - q) / density
        }
        return p < 0.5 ? z : -z
    }
}
