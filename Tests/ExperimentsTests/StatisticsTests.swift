import Experiments
import Testing

@Suite struct WilsonIntervalTests {
    /// Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
    /// methods", Stat Med 17:857–872, Table II, method 3 (Wilson score, no continuity correction), 4 decimals.
    @Test(arguments: [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ])
    func newcombeExamples(successes: Int, trials: Int, lower: Double, upper: Double) {
        let ci = WilsonInterval(successes: successes, trials: trials)
        #expect(abs(ci.lower - lower) < 5e-5)
        #expect(abs(ci.upper - upper) < 5e-5)
    }

    /// Hand computation for 162/200 (the paper's 81.0%): z = 1.959964, z² = 3.841459;
    /// centre = (0.81 + 3.841459/400)/(1 + 3.841459/200) = 0.819604/1.019207 = 0.804156;
    /// half = 1.959964/1.019207 · √(0.81·0.19/200 + 3.841459/160000) = 1.923029 · √0.000793510 = 1.923029 · 0.0281693
    /// = 0.054170 → [0.749986, 0.858326].
    @Test func paperScaleInterval() {
        let ci = WilsonInterval(successes: 162, trials: 200)
        #expect(abs(ci.lower - 0.749986) < 5e-6)
        #expect(abs(ci.upper - 0.858326) < 5e-6)
        #expect(ci.proportion == 0.81)
    }

    @Test func noTrialsIsUninformative() {
        let ci = WilsonInterval(successes: 0, trials: 0)
        #expect(ci.lower == 0 && ci.upper == 1)
    }

    @Test func normalQuantileMatchesTables() {
        // Standard normal table: z_{0.975} = 1.959964, z_{0.95} = 1.644854, z_{0.995} = 2.575829.
        #expect(abs(StandardNormal.quantile(0.975) - 1.959964) < 1e-6)
        #expect(abs(StandardNormal.quantile(0.95) - 1.644854) < 1e-6)
        #expect(abs(StandardNormal.quantile(0.005) + 2.575829) < 1e-6)
    }
}

@Suite struct TwoProportionZTestTests {
    /// Hand computation: 60/100 vs 45/100. Pooled p = 105/200 = 0.525;
    /// SE = √(0.525 · 0.475 · (1/100 + 1/100)) = √0.0049875 = 0.0706222; z = 0.15/0.0706222 = 2.12398;
    /// two-sided p = 2·(1 − Φ(2.12398)) = 0.03367.
    @Test func handWorkedExample() throws {
        let test = try #require(TwoProportionZTest(successes1: 60, trials1: 100, successes2: 45, trials2: 100))
        #expect(abs(test.z - 2.12398) < 1e-4)
        #expect(abs(test.p - 0.03367) < 1e-4)
        #expect(abs(test.difference - 0.15) < 1e-12)
    }

    @Test func degenerateInputsGiveNil() {
        #expect(TwoProportionZTest(successes1: 0, trials1: 10, successes2: 0, trials2: 10) == nil)
        #expect(TwoProportionZTest(successes1: 1, trials1: 0, successes2: 0, trials2: 10) == nil)
    }
}

@Suite struct McNemarTestTests {
    /// Agresti, "An Introduction to Categorical Data Analysis" (2nd ed. 2007), Table 8.1: presidential
    /// approval in two surveys of the same 1600 people — 794 approve/approve, 150 approve/disapprove,
    /// 86 disapprove/approve, 570 disapprove/disapprove. McNemar z² = (86 − 150)²/(86 + 150) = 17.36.
    /// With continuity correction: (64 − 1)²/236 = 3969/236 = 16.818.
    @Test func agrestiPresidentialApproval() {
        let test = McNemarTest(b: 150, c: 86)
        #expect(abs(test.chiSquareUncorrected - 17.3559) < 1e-4)
        #expect(abs(test.chiSquareCorrected - 16.8178) < 1e-4)
        // χ²₁ survival of 16.818: erfc(√8.409) ≈ 4.11e-5.
        #expect(abs(test.chiSquareCorrectedP - 4.1146e-5) < 1e-8)
    }

    /// Hand computation of the exact test: b = 2, c = 8, n = 10:
    /// P(X ≤ 2) = (C(10,0) + C(10,1) + C(10,2))/2¹⁰ = (1 + 10 + 45)/1024 = 56/1024; two-sided p = 112/1024 = 0.109375.
    @Test func exactSmallTable() {
        #expect(abs(McNemarTest(b: 2, c: 8).exactP - 0.109375) < 1e-12)
        #expect(abs(McNemarTest(b: 8, c: 2).exactP - 0.109375) < 1e-12)
        // b = 0, c = 5: 2 · (1/32) = 0.0625.
        #expect(abs(McNemarTest(b: 0, c: 5).exactP - 0.0625) < 1e-12)
        // Balanced: capped at 1.
        #expect(McNemarTest(b: 4, c: 4).exactP == 1)
        #expect(McNemarTest(b: 0, c: 0).exactP == 1)
    }

    @Test func fromPairedOutcomes() throws {
        let first = [true, true, false, false, true, false]
        let second = [true, false, true, true, false, true]
        let test = try #require(McNemarTest(first: first, second: second))
        #expect(test.b == 2 && test.c == 3)
        #expect(McNemarTest(first: [true], second: []) == nil)
    }
}

@Suite struct WilcoxonSignedRankTestTests {
    /// Exact null distribution by hand: n = 5, all differences positive → W− = 0; only the empty subset of
    /// {1…5} sums to 0, so P(W− ≤ 0) = 1/32 and the two-sided p = 2/32 = 0.0625.
    @Test func exactAllPositive() throws {
        let test = try #require(WilcoxonSignedRankTest(differences: [1, 2, 3, 4, 5]))
        #expect(test.method == .exact)
        #expect(test.wPlus == 15 && test.wMinus == 0)
        #expect(abs(test.p - 0.0625) < 1e-12)
    }

    /// n = 6, d = (−1, −2, 3, 4, 5, 6): W− = 1 + 2 = 3. Subsets of {1…6} with sum ≤ 3: {}, {1}, {2}, {3}, {1,2}
    /// → 5/64; two-sided p = 10/64 = 0.15625.
    @Test func exactSmallSample() throws {
        let test = try #require(WilcoxonSignedRankTest(differences: [-1, -2, 3, 4, 5, 6]))
        #expect(test.statistic == 3)
        #expect(abs(test.p - 0.15625) < 1e-12)
    }

    /// The ±1 outcomes of pairwise judging (METHOD.md §6): 12 wins, 4 losses, 4 ties (zeros dropped).
    /// All 16 |d| tie at rank 8.5: W+ = 102, W− = 34. Mean 16·17/4 = 68; variance 16·17·33/24 − (16³ − 16)/48
    /// = 374 − 85 = 289, sd 17; z = 34/17 = 2; two-sided p = 2·(1 − Φ(2)) = 0.0455003.
    @Test func tiedSignsNormalApproximation() throws {
        let d: [Double] = Array(repeating: 1, count: 12) + Array(repeating: -1, count: 4) + Array(repeating: 0, count: 4)
        let test = try #require(WilcoxonSignedRankTest(differences: d))
        #expect(test.method == .normal)
        #expect(test.zeros == 4 && test.nonZero == 16)
        #expect(test.wPlus == 102 && test.wMinus == 34)
        #expect(abs((test.z ?? 0) - 2) < 1e-12)
        #expect(abs(test.p - 0.0455003) < 1e-6)
    }

    /// Wikipedia, "Wilcoxon signed-rank test", worked example (10 pairs x₁, x₂; one zero difference, one tie):
    /// after dropping the zero N_r = 9 and the signed-rank sum W = 9, i.e. W+ = 18, W− = 27. By hand: mean 22.5,
    /// variance 9·10·19/24 − (2³ − 2)/48 = 71.125, z = −4.5/8.43357 = −0.53358, p = 0.59363.
    @Test func wikipediaWorkedExample() throws {
        let x1: [Double] = [125, 115, 130, 140, 140, 115, 140, 125, 140, 135]
        let x2: [Double] = [110, 122, 125, 120, 140, 124, 123, 137, 135, 145]
        let test = try #require(WilcoxonSignedRankTest(before: x1, after: x2))
        #expect(test.nonZero == 9 && test.hasTies)
        #expect(test.wPlus == 18 && test.wMinus == 27)
        #expect(abs((test.z ?? 0) + 0.53358) < 1e-5)
        #expect(abs(test.p - 0.59363) < 1e-5)
    }

    /// Pratt's zero handling: zeros are ranked and then dropped. d = (1.5, −0.5, 2.25, 3, −4, 0, 0, 2.25, 5, 6, −7, 8):
    /// |d| ranks 0,0 → 1.5, 1.5; 0.5 → 3; 1.5 → 4; 2.25, 2.25 → 5.5; 3 → 7; 4 → 8; 5 → 9; 6 → 10; 7 → 11; 8 → 12.
    /// W− = 3 + 8 + 11 = 22, W+ = 75 − 22 = 53. By hand: E = Σr/2 = 37.5, Var = Σr²/4 = 644.5/4 = 161.125,
    /// z = 15.5/√161.125 = 1.22110, p = 0.22205 (scipy.stats.wilcoxon(zero_method="pratt") agrees).
    @Test func prattZeroMethod() throws {
        let d: [Double] = [1.5, -0.5, 2.25, 3, -4, 0, 0, 2.25, 5, 6, -7, 8]
        let test = try #require(WilcoxonSignedRankTest(differences: d, zeroMethod: .pratt))
        #expect(test.method == .normal)
        #expect(test.wMinus == 22 && test.wPlus == 53)
        #expect(abs((test.z ?? 0) - 1.22110) < 1e-5)
        #expect(abs(test.p - 0.22205) < 1e-5)
    }

    /// Larger untied sample under the exact method vs the normal approximation: the exact p of W+ = 0 for
    /// n = 20 is 2/2²⁰ = 1.9073e-6.
    @Test func exactExtremeLargerSample() throws {
        let d = (1...20).map(Double.init)
        let test = try #require(WilcoxonSignedRankTest(differences: d))
        #expect(test.method == .exact)
        #expect(abs(test.p - 2.0 / 1_048_576) < 1e-15)
    }

    @Test func allZerosGiveNil() {
        #expect(WilcoxonSignedRankTest(differences: [0, 0, 0]) == nil)
    }
}

@Suite struct CohensKappaTests {
    /// Wikipedia, "Cohen's kappa", first worked example: 50 grant proposals, both readers "Yes" 20, A yes/B no 5,
    /// A no/B yes 10, both "No" 15. p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.4.
    @Test func wikipediaGrantProposals() throws {
        let kappa = try #require(CohensKappa(confusion: [[20, 5], [10, 15]]))
        #expect(abs(kappa.observedAgreement - 0.7) < 1e-12)
        #expect(abs(kappa.chanceAgreement - 0.5) < 1e-12)
        #expect(abs(kappa.kappa - 0.4) < 1e-12)
    }

    /// The same table given as two raters' label lists.
    @Test func fromLabelLists() throws {
        let a = Array(repeating: "yes", count: 25) + Array(repeating: "no", count: 25)
        let b = Array(repeating: "yes", count: 20) + Array(repeating: "no", count: 5)
            + Array(repeating: "yes", count: 10) + Array(repeating: "no", count: 15)
        let kappa = try #require(CohensKappa(rater1: a, rater2: b))
        #expect(abs(kappa.kappa - 0.4) < 1e-12)
    }

    /// Wikipedia's second example (same p_o = 0.6 but different marginals): 45/15/25/15 → κ = 0.1304;
    /// by hand p_e = 0.6·0.7 + 0.4·0.3 = 0.54, κ = 0.06/0.46 = 0.130435.
    @Test func wikipediaSecondExample() throws {
        let kappa = try #require(CohensKappa(confusion: [[45, 15], [25, 15]]))
        #expect(abs(kappa.kappa - 0.130435) < 1e-6)
    }

    @Test func undefinedCases() {
        #expect(CohensKappa(rater1: [1, 1], rater2: [1, 1]) == nil)
        #expect(CohensKappa(rater1: [1], rater2: [1, 2]) == nil)
        #expect(CohensKappa(confusion: [[1, 2]]) == nil)
    }
}

@Suite struct MeanIntervalTests {
    /// Hand computation: values 0.2, 0.4, 0.9 → mean 0.5; deviations −0.3, −0.1, 0.4; squares 0.09 + 0.01 + 0.16 = 0.26;
    /// variance 0.26 / 2 = 0.13; s.e. √(0.13 / 3) = 0.208167; half-width 1.96 × 0.208167 = 0.408007.
    @Test func meanAndHalfWidthByHand() throws {
        let m = try #require(MeanInterval([0.2, 0.4, 0.9]))
        #expect(m.n == 3 && abs(m.mean - 0.5) < 1e-15)
        #expect(abs(m.halfWidth - 0.408007) < 1e-6 && abs(m.low - 0.091993) < 1e-6 && m.excludesZero)
        // −0.1, 0.3: mean 0.1, s.d. 0.282843, s.e. 0.2, half-width 0.392 — the interval holds zero.
        let wide = try #require(MeanInterval([-0.1, 0.3]))
        #expect(abs(wide.halfWidth - 0.392) < 1e-12 && !wide.excludesZero)
        #expect(MeanInterval([]) == nil)
        #expect(MeanInterval([0.3])?.halfWidth == 0, "one value: no spread to estimate")
    }

    /// Paired over the keys both sides have: a − b = 0.1, 0.2, 0.3 (key 9 only in a, key 7 only in b) → mean 0.2,
    /// s.d. 0.1, half-width 1.96 × 0.1/√3 = 0.113161, so the interval leaves out zero.
    @Test func pairedDifferenceUsesTheSharedItems() throws {
        let d = try #require(MeanInterval.pairedDifference([1: 0.5, 2: 0.7, 3: 0.9, 9: 5], [1: 0.4, 2: 0.5, 3: 0.6, 7: -5]))
        #expect(d.n == 3 && abs(d.mean - 0.2) < 1e-12 && abs(d.halfWidth - 0.113161) < 1e-6 && d.excludesZero)
        #expect(MeanInterval.pairedDifference([1: 0.5], [2: 0.5]) == nil)
    }
}
