import Experiments
import Testing

/// Each test statistic against a published worked example.
struct StatisticsTests {
    @Test func twoProportionZ() {
        // 45/100 vs 30/100, pooled p = 0.375: z = 0.15 / √(0.375·0.625·0.02) = 2.19089, p = 0.02846
        // (the standard pooled z test, e.g. Agresti, Categorical Data Analysis §3.1).
        let t = TwoProportionTest(successes1: 45, trials1: 100, successes2: 30, trials2: 100)
        #expect(abs(t.z - 2.1908902) < 1e-6 && abs(t.pValue - 0.0284597) < 1e-6)
    }

    @Test func mcNemar() {
        // b = 10, c = 3: exact p = 2·(1+13+78+286)/2¹³ = 0.0922852; χ² = (7−1)²/13 = 2.76923, p = 0.0960923.
        let t = McNemarTest(b: 10, c: 3)
        #expect(abs(t.exactPValue - 0.09228515625) < 1e-10)
        #expect(abs(t.chiSquare - 36.0 / 13) < 1e-12 && abs(t.chiSquarePValue - 0.0960923) < 1e-6)
    }

    @Test func wilcoxonExactOnDarwinsZeaMays() {
        // Darwin's Zea mays height differences (Fisher 1935; the scipy.stats.wilcoxon documentation example):
        // W = 24, exact two-sided p = 0.041259765625.
        let d: [Double] = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]
        let t = WilcoxonSignedRank(differences: d)
        #expect(t.exact && t.statistic == 24 && abs(t.pValue - 0.041259765625) < 1e-12)
    }

    @Test func wilcoxonNormalApproximationWithTiesAndZeros() {
        // Judge outcomes ±1 with two ties (0): 15 wins, 3 losses. Ranks all 9.5, W = 3·9.5 = 28.5;
        // z = (28.5 − 85.5) / √(527.25 − (18³ − 18)/48) = −2.8284, p = 0.0046777.
        let d: [Double] = [1, 1, 1, -1, 1, 0, 1, 1, -1, 1, 1, 0, 1, 1, 1, 1, -1, 1, 1, 1]
        let t = WilcoxonSignedRank(differences: d)
        #expect(!t.exact && t.statistic == 28.5 && abs(t.pValue - 0.0046777349810) < 1e-9)
    }

    @Test func cohensKappaWikipediaExample() {
        // 50 proposals: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 → p_o = 0.7, p_e = 0.5, κ = 0.4.
        let a = Array(repeating: "yes", count: 25) + Array(repeating: "no", count: 25)
        let b = Array(repeating: "yes", count: 20) + Array(repeating: "no", count: 5)
            + Array(repeating: "yes", count: 10) + Array(repeating: "no", count: 15)
        let k = CohensKappa(a, b)
        #expect(abs(k.observedAgreement - 0.7) < 1e-12 && abs(k.expectedAgreement - 0.5) < 1e-12)
        #expect(abs(k.kappa - 0.4) < 1e-12)
    }
}
