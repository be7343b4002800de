import Foundation

/// McNemar's test for paired outcomes (the same items under two conditions): only discordant pairs count —
/// `b` items right under the first condition only, `c` under the second only.
public struct McNemarTest: Sendable, Codable, Equatable {
    /// Exact two-sided binomial p-value (b ~ Binomial(b + c, ½)).
    public var exactPValue: Double
    /// χ² with continuity correction, `(|b − c| − 1)² / (b + c)`, and its p-value (1 degree of freedom).
    public var chiSquare: Double
    public var chiSquarePValue: Double

    public init(b: Int, c: Int) {
        let n = b + c
        guard n > 0 else {
            exactPValue = 1
            chiSquare = 0
            chiSquarePValue = 1
            return
        }
        let k = min(b, c)
        var tail = 0.0
        var logChoose = 0.0  // log C(n, 0)
        for i in 0...k {
            if i > 0 { logChoose += log(Double(n - i + 1)) - log(Double(i)) }
            tail += exp(logChoose - Double(n) * log(2))
        }
        exactPValue = min(1, 2 * tail)
        let diff = max(Double(abs(b - c)) - 1, 0)
        chiSquare = diff * diff / Double(n)
        // χ² with 1 degree of freedom: P(X > x) = P(|Z| > √x).
        chiSquarePValue = NormalDistribution.twoSided(chiSquare.squareRoot())
    }
}
