/// Two-proportion z test for independent samples, with the pooled standard error under H0: p1 = p2.
public struct TwoProportionZTest: Sendable, Equatable, Codable {
    public let successes1: Int, trials1: Int
    public let successes2: Int, trials2: Int
    /// p̂1 − p̂2.
    public let difference: Double
    public let z: Double
    /// Two-sided p-value.
    public let p: Double

    /// Returns nil when a sample is empty or the pooled proportion is 0 or 1 (no variance, z undefined).
    public init?(successes1: Int, trials1: Int, successes2: Int, trials2: Int) {
        guard trials1 > 0, trials2 > 0 else { return nil }
        let n1 = Double(trials1), n2 = Double(trials2)
        let p1 = Double(successes1) / n1, p2 = Double(successes2) / n2
        let pooled = Double(successes1 + successes2) / (n1 + n2)
        let variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
        guard variance > 0 else { return nil }
        self.successes1 = successes1; self.trials1 = trials1
        self.successes2 = successes2; self.trials2 = trials2
        difference = p1 - p2
        z = difference / variance.squareRoot()
        p = StandardNormal.twoSidedP(z)
    }
}
