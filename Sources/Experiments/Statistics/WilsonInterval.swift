/// Wilson score confidence interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3),
/// without continuity correction.
public struct WilsonInterval: Sendable, Equatable, Codable {
    public let successes: Int
    public let trials: Int
    public let confidence: Double
    public let lower: Double
    public let upper: Double

    /// The point estimate successes/trials (0 when there are no trials).
    public var proportion: Double { trials == 0 ? 0 : Double(successes) / Double(trials) }

    /// With no trials the interval is the uninformative [0, 1].
    public init(successes: Int, trials: Int, confidence: Double = 0.95) {
        self.successes = successes
        self.trials = trials
        self.confidence = confidence
        guard trials > 0 else { lower = 0; upper = 1; return }
        let n = Double(trials)
        let p = Double(successes) / n
        let z = StandardNormal.quantile(1 - (1 - confidence) / 2)
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let halfWidth = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        lower = successes == 0 ? 0 : max(0, centre - halfWidth)
        upper = successes == trials ? 1 : min(1, centre + halfWidth)
    }
}
