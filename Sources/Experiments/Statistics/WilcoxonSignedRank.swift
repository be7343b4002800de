import Foundation

/// The Wilcoxon signed-rank test of paired differences against zero (zeros dropped, tied magnitudes given their
/// average rank). Exact null distribution for up to 25 non-zero differences without ties; otherwise the normal
/// approximation with the tie correction (no continuity correction), as `scipy.stats.wilcoxon` does.
public struct WilcoxonSignedRank: Sendable, Codable, Equatable {
    /// min(W⁺, W⁻).
    public var statistic: Double
    public var pValue: Double
    public var exact: Bool

    public init(differences: [Double]) {
        let nonzero = differences.filter { $0 != 0 }
        let n = nonzero.count
        guard n > 0 else {
            statistic = 0
            pValue = 1
            exact = true
            return
        }
        // Average ranks of |d|.
        let order = nonzero.indices.sorted { abs(nonzero[$0]) < abs(nonzero[$1]) }
        var ranks = [Double](repeating: 0, count: n)
        var tieGroups = [Int]()
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && abs(nonzero[order[j + 1]]) == abs(nonzero[order[i]]) { j += 1 }
            let average = Double(i + j + 2) / 2
            for k in i...j { ranks[order[k]] = average }
            tieGroups.append(j - i + 1)
            i = j + 1
        }
        let plus = zip(nonzero, ranks).filter { $0.0 > 0 }.reduce(0) { $0 + $1.1 }
        let minus = Double(n * (n + 1)) / 2 - plus
        statistic = min(plus, minus)
        if n <= 25 && tieGroups.allSatisfy({ $0 == 1 }) {
            // Count subsets of ranks 1…n with sum ≤ statistic.
            let maxSum = n * (n + 1) / 2
            var ways = [Double](repeating: 0, count: maxSum + 1)
            ways[0] = 1
            for r in 1...n { for s in stride(from: maxSum, through: r, by: -1) { ways[s] += ways[s - r] } }
            let t = Int(statistic.rounded(.down))
            let below = ways[0...t].reduce(0, +)
            pValue = min(1, 2 * below / pow(2, Double(n)))
            exact = true
        } else {
            let mean = Double(n * (n + 1)) / 4
            let tie = tieGroups.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) } / 48
            let sd = (Double(n * (n + 1) * (2 * n + 1)) / 24 - tie).squareRoot()
            pValue = sd > 0 ? NormalDistribution.twoSided((statistic - mean) / sd) : 1
            exact = false
        }
    }
}
