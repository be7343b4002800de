/// A sample mean with its normal-approximation 95% interval, mean ± z standard errors (sample standard deviation,
/// n − 1; z = 1.96 as CAA rounds it, or the exact quantile ActAdd's topic frequency uses): CAA's per-cell P(matching)
/// interval, ActAdd's topic words per completion, and the paired difference of two conditions over the same items.
public struct MeanInterval: Sendable, Equatable {
    public let n: Int
    public let mean: Double
    /// z standard errors; 0 for fewer than two values.
    public let halfWidth: Double

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }
    /// Whether the interval leaves out zero (a difference that the items show at the 5% level, normal approximation).
    public var excludesZero: Bool { low > 0 || high < 0 }

    /// nil for no values.
    public init?(_ values: [Double], z: Double = 1.96) {
        guard !values.isEmpty else { return nil }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        self.n = values.count
        self.mean = mean
        halfWidth = z * (variance / n).squareRoot()
    }

    /// The paired difference `a[i] − b[i]` over the items both have (by key); nil when they share none.
    public static func pairedDifference<Key: Hashable>(_ a: [Key: Double], _ b: [Key: Double]) -> MeanInterval? {
        MeanInterval(a.keys.filter { b[$0] != nil }.map { a[$0]! - b[$0]! })
    }
}
