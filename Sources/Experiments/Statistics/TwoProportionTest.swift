/// The two-proportion z test with a pooled standard error: do two conditions' honest rates differ?
public struct TwoProportionTest: Sendable, Codable, Equatable {
    public var z: Double
    public var pValue: Double

    public init(successes1 x1: Int, trials1 n1: Int, successes2 x2: Int, trials2 n2: Int) {
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let pooled = Double(x1 + x2) / Double(n1 + n2)
        let se = (pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))).squareRoot()
        z = se > 0 ? (p1 - p2) / se : 0
        pValue = se > 0 ? NormalDistribution.twoSided(z) : 1
    }
}
