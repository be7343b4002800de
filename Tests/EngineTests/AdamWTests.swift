import Engine
import Foundation
import Testing
import TestSupport

/// AdamW against a step worked by hand from the update rule (Loshchilov & Hutter 2019, Algorithm 2).
struct AdamWTests {
    @Test func twoStepsMatchTheUpdateRule() {
        let w = FloatBuffer([1.0, -2.0]), g = FloatBuffer([0.5, 0.25])
        var opt = AdamW(groups: [.init(learningRate: 0.1, weightDecay: 0.1, epsilon: 1e-8)])
        opt.add(weights: w, gradient: g, group: 0)
        opt.update()
        // Step 1: m̂ = g, v̂ = g², so the Adam step is lr·g/|g| = 0.1·sign(g); decay first: w ← w − lr·λ·w.
        #expect(abs(w[0] - (1 - 0.01 - 0.1)) < 1e-6)
        #expect(abs(w[1] - (-2 + 0.02 - 0.1)) < 1e-6)
        // Step 2 with g = (0.5, −0.25): m = (0.095, −0.0025)/(1−0.81), v = (0.2498·… worked in Double here.
        g[1] = -0.25
        let before = (Double(w[0]), Double(w[1]))
        opt.update()
        func expected(_ w: Double, _ g1: Double, _ g2: Double) -> Double {
            let m = 0.9 * 0.1 * g1 + 0.1 * g2, v = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2
            let mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999)
            let decayed = w - 0.1 * 0.1 * w
            return decayed - 0.1 * mh / (vh.squareRoot() + 1e-8)
        }
        #expect(abs(Double(w[0]) - expected(before.0, 0.5, 0.5)) < 1e-5)
        #expect(abs(Double(w[1]) - expected(before.1, 0.25, -0.25)) < 1e-5)
    }

    @Test func groupsHaveTheirOwnRatesAndClippingScalesGradients() {
        let a = FloatBuffer([0]), b = FloatBuffer([0]), ga = FloatBuffer([3]), gb = FloatBuffer([4])
        var opt = AdamW(groups: [.init(learningRate: 1e-5, weightDecay: 0), .init(learningRate: 1e-6, weightDecay: 0)],
                        maxGradientNorm: 1)
        opt.add(weights: a, gradient: ga, group: 0)
        opt.add(weights: b, gradient: gb, group: 1)
        #expect(abs(opt.update() - 5) < 1e-9)
        // The first Adam step moves each weight by its group's lr (sign of g), whatever the clipping.
        #expect(abs(a[0] + 1e-5) < 1e-10 && abs(b[0] + 1e-6) < 1e-11)
    }

    /// The eight-lane kernel against the scalar formula, element by element and bit for bit, on a length with a tail;
    /// and the optimizer over a slot range that spans several parallel chunks (V rows of a stacked matrix).
    @Test func kernelIsBitIdenticalToTheScalarFormula() {
        var rng = SplitMix(state: 11)
        let n = 1003
        func random(_ scale: Float) -> [Float] { (0..<n).map { _ in Float.random(in: -0.5..<0.5, using: &rng) * scale } }
        var w = random(2), m = random(0.1), v = random(0.01).map(abs)
        let g = random(1)
        let (lr, wd, eps, b1, b2, c1, c2, clip): (Float, Float, Float, Float, Float, Float, Float, Float) =
            (1e-3, 0.1, 1e-4, 0.9, 0.999, 0.271, 0.003, 0.7)
        var (ew, em, ev) = (w, m, v)
        for i in 0..<n {
            let gi = g[i] * clip
            em[i] = b1 * em[i] + (1 - b1) * gi
            ev[i] = b2 * ev[i] + (1 - b2) * gi * gi
            ew[i] -= lr * wd * ew[i]
            ew[i] -= lr * (em[i] / c1) / ((ev[i] / c2).squareRoot() + eps)
        }
        AdamWKernel.update(weights: &w, gradient: g, firstMoment: &m, secondMoment: &v, count: n, learningRate: lr,
                           weightDecay: wd, epsilon: eps, beta1: b1, beta2: b2, biasCorrection1: c1,
                           biasCorrection2: c2, gradientScale: clip)
        #expect(w.map(\.bitPattern) == ew.map(\.bitPattern))
        #expect(m.map(\.bitPattern) == em.map(\.bitPattern) && v.map(\.bitPattern) == ev.map(\.bitPattern))

        // A slot over elements 70 000..<200 001 of a 250 000-element tensor: three chunks, only the range moves.
        let count = 250_000, range = 70_000..<200_001
        let weights = FloatBuffer((0..<count).map { Float($0 % 97) / 97 }), gradient = FloatBuffer((0..<count).map { Float($0 % 13) - 6 })
        var opt = AdamW(groups: [.init(learningRate: 0.01, weightDecay: 0.1)])
        opt.add(weights: weights, gradient: gradient, range: range, group: 0)
        let norm = opt.update()
        let expectedNorm = range.reduce(0.0) { $0 + Double(gradient[$1]) * Double(gradient[$1]) }.squareRoot()
        #expect(abs(norm - expectedNorm) <= 1e-9 * expectedNorm)
        for i in [0, 69_999, 200_001, 249_999] { #expect(weights[i] == Float(i % 97) / 97) }
        for i in [70_000, 131_072, 200_000] {
            let w0 = Float(i % 97) / 97, gi = gradient[i]
            // First step: m̂ = g, v̂ = g², so the move is lr·g/(|g| + ε) after the decay.
            let expected = (w0 - 0.01 * 0.1 * w0) - 0.01 * ((0.1 * gi) / 0.1) / (((0.001 * gi * gi) / 0.001).squareRoot() + 1e-8)
            #expect(abs(weights[i] - expected) <= 1e-6, "element \(i)")
        }
    }

    @Test func warmupThenLinearDecay() {
        let s = LinearWarmupDecay(warmupSteps: 10, totalSteps: 110)
        #expect(s.factor(step: 0) == 0 && s.factor(step: 5) == 0.5 && s.factor(step: 9) == 0.9)
        #expect(s.factor(step: 10) == 1 && s.factor(step: 60) == 0.5 && s.factor(step: 110) == 0)
        #expect((0..<120).map(s.factor).allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
