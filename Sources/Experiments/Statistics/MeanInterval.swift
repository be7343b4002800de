/// A sample mean with its normal-approximation 95% interval, mean ± 1.96 standard errors (sample standard deviation,
/// n − 1): CAA's per-cell P(matching) interval, and the paired difference of two conditions over the same items.
public struct MeanInterval: Sendable, Equatable {
    public let n: Int
    public let mean: Double
    /// 1.96 standard errors; 0 for fewer than two values.
    public let halfWidth: Double

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }
    /// Whether the interval leaves out zero (a difference that the items show at the 5% level, normal approximation).
    public var excludesZero: Bool { low > 0 || high < 0 }

    /// nil for no values.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        self.n = values.count
        self.mean = mean
        halfWidth = 1.96 * (variance / n).squareRoot()
    }

    /// The paired difference `a[i] − b[i]` over the items both have (by key); nil when they share none.
    public static func pairedDifference<Key: Hashable>(_ a: [Key: Double], _ b: [Key: Double]) -> MeanInterval? {
        MeanInterval(a.keys.filter { b[$0] != nil }.map { a[$0]! - b[$0]! })
    }
}
