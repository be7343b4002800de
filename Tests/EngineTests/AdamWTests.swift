import Engine
import Foundation
import Testing

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

    @Test func warmupThenLinearDecay() {
        let s = LinearWarmupDecay(warmupSteps: 10, totalSteps: 110)
        #expect(s.factor(step: 0) == 0 && s.factor(step: 5) == 0.5 && s.factor(step: 9) == 0.9)
        #expect(s.factor(step: 10) == 1 && s.factor(step: 60) == 0.5 && s.factor(step: 110) == 0)
        #expect((0..<120).map(s.factor).allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
