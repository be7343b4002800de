/// Cohen's κ: agreement of two raters beyond chance, `(p_o − p_e) / (1 − p_e)`.
public struct CohensKappa: Sendable, Codable, Equatable {
    public var kappa: Double
    public var observedAgreement: Double
    public var expectedAgreement: Double

    /// Ratings of the same items by two raters, any hashable categories.
    public init<T: Hashable>(_ a: [T], _ b: [T]) {
        let n = Double(min(a.count, b.count))
        guard n > 0 else {
            kappa = 0
            observedAgreement = 0
            expectedAgreement = 0
            return
        }
        let pairs = Array(zip(a, b))
        observedAgreement = Double(pairs.filter { $0.0 == $0.1 }.count) / n
        var countA = [T: Double](), countB = [T: Double]()
        for (x, y) in pairs {
            countA[x, default: 0] += 1
            countB[y, default: 0] += 1
        }
        expectedAgreement = countA.reduce(0) { $0 + $1.value / n * (countB[$1.key] ?? 0) / n }
        kappa = expectedAgreement < 1 ? (observedAgreement - expectedAgreement) / (1 - expectedAgreement) : 1
    }
}
