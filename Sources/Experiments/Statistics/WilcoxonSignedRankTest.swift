/// Wilcoxon signed-rank test of paired differences against a symmetric distribution about zero (two-sided).
///
/// Absolute differences get average ranks over ties. Zero differences are either discarded before ranking
/// (Wilcoxon's method, the default) or ranked and then dropped (Pratt's method). The p-value is exact
/// (the null distribution of W+ by enumeration) for small samples without ties or zeros, otherwise from the
/// normal approximation with the tie-corrected variance n(n+1)(2n+1)/24 − Σ(t³ − t)/48 (in general Σr²/4 over
/// the ranks of the non-zero differences).
public struct WilcoxonSignedRankTest: Sendable, Equatable, Codable {
    public enum ZeroMethod: String, Sendable, Codable { case wilcox, pratt }
    public enum Method: String, Sendable, Codable { case automatic, exact, normal }

    /// Sum of ranks of positive differences.
    public let wPlus: Double
    /// Sum of ranks of negative differences.
    public let wMinus: Double
    /// Number of non-zero differences.
    public let nonZero: Int
    public let zeros: Int
    /// Whether there were tied |differences| (among the ranked values).
    public let hasTies: Bool
    /// The method actually used for the p-value.
    public let method: Method
    /// z of W+ under the normal approximation (nil for the exact method).
    public let z: Double?
    /// Two-sided p-value.
    public let p: Double

    /// min(W+, W−), the usual reported statistic.
    public var statistic: Double { min(wPlus, wMinus) }

    /// Largest number of non-zero differences for which `.automatic` uses the exact distribution.
    public static let exactLimit = 50

    /// Returns nil when no difference is non-zero.
    public init?(differences: [Double], zeroMethod: ZeroMethod = .wilcox, method: Method = .automatic,
                 continuityCorrection: Bool = false) {
        let zeroCount = differences.filter { $0 == 0 }.count
        let ranked = zeroMethod == .wilcox ? differences.filter { $0 != 0 } : differences
        let nonZeroCount = differences.count - zeroCount
        guard nonZeroCount > 0 else { return nil }

        // Average ranks of |d|.
        let order = ranked.indices.sorted { abs(ranked[$0]) < abs(ranked[$1]) }
        var ranks = [Double](repeating: 0, count: ranked.count)
        var tieGroups: [Int] = []
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && abs(ranked[order[j + 1]]) == abs(ranked[order[i]]) { j += 1 }
            let average = Double(i + j + 2) / 2
            for m in i...j { ranks[order[m]] = average }
            tieGroups.append(j - i + 1)
            i = j + 1
        }
        var plus = 0.0, minus = 0.0
        for (d, r) in zip(ranked, ranks) {
            if d > 0 { plus += r } else if d < 0 { minus += r }
        }
        wPlus = plus
        wMinus = minus
        nonZero = nonZeroCount
        zeros = zeroCount
        // Ties among ranked values (Pratt's zeros count as a tie group but not as "ties" for exactness).
        let ties = tieGroups.contains { $0 > 1 }
        hasTies = ties

        let exactAllowed = !ties && (zeroMethod == .wilcox || zeroCount == 0)
        let useExact: Bool
        switch method {
        case .exact: useExact = exactAllowed
        case .normal: useExact = false
        case .automatic: useExact = exactAllowed && nonZeroCount <= Self.exactLimit
        }

        if useExact {
            self.method = .exact
            z = nil
            p = Self.exactTwoSidedP(n: nonZeroCount, wPlus: Int(plus.rounded()))
        } else {
            self.method = .normal
            // Under H0 each non-zero rank r enters W+ with probability 1/2: E = Σr/2, Var = Σr²/4. With average
            // ranks this equals n(n+1)(2n+1)/24 − Σ(t³ − t)/48, and it drops Pratt's zero ranks exactly.
            var mean = 0.0, variance = 0.0
            for (d, r) in zip(ranked, ranks) where d != 0 {
                mean += r / 2
                variance += r * r / 4
            }
            let deviation = plus - mean
            var numerator = deviation
            if continuityCorrection && deviation != 0 {
                numerator = deviation > 0 ? max(0, deviation - 0.5) : min(0, deviation + 0.5)
            }
            let zValue = variance > 0 ? numerator / variance.squareRoot() : 0
            z = zValue
            p = variance > 0 ? StandardNormal.twoSidedP(zValue) : 1
        }
    }

    /// Paired samples: differences `after[i] − before[i]`; nil if the lengths differ.
    public init?(before: [Double], after: [Double], zeroMethod: ZeroMethod = .wilcox, method: Method = .automatic) {
        guard before.count == after.count else { return nil }
        self.init(differences: zip(before, after).map { $1 - $0 }, zeroMethod: zeroMethod, method: method)
    }

    /// 2 · min(P(W+ ≤ w), P(W+ ≥ w)) under H0 for n untied non-zero differences, capped at 1.
    static func exactTwoSidedP(n: Int, wPlus: Int) -> Double {
        let maxSum = n * (n + 1) / 2
        // counts[s] = number of subsets of {1…n} with sum s (as Double: up to 2^n).
        var counts = [Double](repeating: 0, count: maxSum + 1)
        counts[0] = 1
        for rank in 1...n {
            var s = rank * (rank + 1) / 2
            while s >= rank {
                counts[s] += counts[s - rank]
                s -= 1
            }
        }
        let total = counts.reduce(0, +)
        let w = min(max(wPlus, 0), maxSum)
        let lower = counts[0...w].reduce(0, +) / total
        let upper = counts[w...maxSum].reduce(0, +) / total
        return min(1, 2 * min(lower, upper))
    }
}
