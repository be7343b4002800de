import Foundation

/// The Wilson score interval for a binomial proportion (Wilson 1927), 95% by default.
public struct WilsonInterval: Sendable, Codable, Equatable {
    public var lower: Double
    public var upper: Double

    public init(successes k: Int, trials n: Int, z: Double = 1.959963984540054) {
        guard n > 0 else {
            lower = 0
            upper = 1
            return
        }
        let p = Double(k) / Double(n), nn = Double(n), z2 = z * z
        let center = (p + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        lower = max(0, center - half)
        upper = min(1, center + half)
    }
}
