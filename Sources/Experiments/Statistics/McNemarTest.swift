import Foundation

/// McNemar's test for paired binary outcomes, from the two discordant counts of the 2×2 table:
/// `b` = pairs positive under condition 1 only, `c` = positive under condition 2 only.
///
/// Offers the exact (binomial, two-sided) p-value and the chi-square statistic with Edwards' continuity
/// correction, (|b − c| − 1)² / (b + c), on 1 degree of freedom.
public struct McNemarTest: Sendable, Equatable, Codable {
    public let b: Int
    public let c: Int

    public init(b: Int, c: Int) {
        self.b = max(0, b)
        self.c = max(0, c)
    }

    /// Builds the discordant counts from paired outcomes (`first[i]`, `second[i]`); nil if the lengths differ.
    public init?(first: [Bool], second: [Bool]) {
        guard first.count == second.count else { return nil }
        var b = 0, c = 0
        for (x, y) in zip(first, second) {
            if x && !y { b += 1 } else if y && !x { c += 1 }
        }
        self.init(b: b, c: c)
    }

    /// Exact two-sided p-value: 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1 (1 when b + c = 0).
    public var exactP: Double {
        let n = b + c
        guard n > 0 else { return 1 }
        let k = min(b, c)
        var tail = 0.0
        for i in 0...k { tail += Self.binomialHalfPMF(n: n, k: i) }
        return min(1, 2 * tail)
    }

    /// Chi-square statistic with continuity correction (0 when b + c = 0).
    public var chiSquareCorrected: Double {
        let n = b + c
        guard n > 0 else { return 0 }
        let d = max(0, Double(abs(b - c)) - 1)
        return d * d / Double(n)
    }

    /// Chi-square statistic without continuity correction, (b − c)² / (b + c).
    public var chiSquareUncorrected: Double {
        let n = b + c
        guard n > 0 else { return 0 }
        let d = Double(b - c)
        return d * d / Double(n)
    }

    /// p-value of `chiSquareCorrected` on 1 degree of freedom.
    public var chiSquareCorrectedP: Double { ChiSquareOneDF.survival(chiSquareCorrected) }

    /// P(X = k) for X ~ Binomial(n, 1/2), computed in log space so large n does not overflow.
    static func binomialHalfPMF(n: Int, k: Int) -> Double {
        let logChoose = lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
        return exp(logChoose - Double(n) * log(2.0))
    }
}

/// The chi-square distribution with one degree of freedom (the square of a standard normal).
public enum ChiSquareOneDF {
    /// P(X > x).
    public static func survival(_ x: Double) -> Double {
        guard x > 0 else { return 1 }
        return erfc((x / 2).squareRoot())
    }
}
