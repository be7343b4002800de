import Foundation

/// The standard normal distribution's tail, for the tests' p-values.
public enum NormalDistribution {
    /// P(Z > z).
    public static func upperTail(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }
    /// Two-sided p-value of a z statistic.
    public static func twoSided(_ z: Double) -> Double { min(1, 2 * upperTail(abs(z))) }
}
