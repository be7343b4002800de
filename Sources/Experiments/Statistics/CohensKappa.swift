/// Cohen's κ: agreement between two raters beyond chance, κ = (p_o − p_e) / (1 − p_e) (Cohen 1960).
public struct CohensKappa: Sendable, Equatable, Codable {
    /// Observed agreement p_o.
    public let observedAgreement: Double
    /// Agreement expected by chance from the raters' marginals, p_e.
    public let chanceAgreement: Double
    public let kappa: Double
    public let items: Int

    /// From two raters' labels for the same items; nil if the lengths differ, there are no items, or
    /// p_e = 1 (both raters used one and the same category throughout: κ undefined).
    public init?<Label: Hashable>(rater1: [Label], rater2: [Label]) {
        guard rater1.count == rater2.count, !rater1.isEmpty else { return nil }
        var categories: [Label: Int] = [:]
        for label in rater1 + rater2 where categories[label] == nil { categories[label] = categories.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: categories.count), count: categories.count)
        for (x, y) in zip(rater1, rater2) { table[categories[x]!][categories[y]!] += 1 }
        self.init(confusion: table)
    }

    /// From a square confusion matrix `table[i][j]` = items rater 1 put in category i and rater 2 in category j.
    public init?(confusion table: [[Int]]) {
        let k = table.count
        guard k > 0, table.allSatisfy({ $0.count == k }) else { return nil }
        let total = table.reduce(0) { $0 + $1.reduce(0, +) }
        guard total > 0 else { return nil }
        let n = Double(total)
        var agree = 0
        var chance = 0.0
        for i in 0..<k {
            agree += table[i][i]
            let rowSum = Double(table[i].reduce(0, +))
            let colSum = Double(table.reduce(0) { $0 + $1[i] })
            chance += (rowSum / n) * (colSum / n)
        }
        guard chance < 1 else { return nil }
        observedAgreement = Double(agree) / n
        chanceAgreement = chance
        kappa = (observedAgreement - chance) / (1 - chance)
        items = total
    }
}
