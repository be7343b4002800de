/// The AdamW update of one contiguous run of weights, eight lanes at a time. Every element goes through the same
/// IEEE operations in the same order as the scalar formula, so the result is bit-identical to it:
///
///     m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  w ← w − (lr·λ)w,  w ← w − lr·(m/c₁) / (√(v/c₂) + ε)
///
/// with `g` the gradient times `gradientScale` (the clipping factor) and c₁, c₂ the bias corrections.
public enum AdamWKernel {
    public static func update(weights w: UnsafeMutablePointer<Float>, gradient grad: UnsafePointer<Float>,
                              firstMoment m: UnsafeMutablePointer<Float>, secondMoment v: UnsafeMutablePointer<Float>,
                              count: Int, learningRate lr: Float, weightDecay: Float, epsilon: Float,
                              beta1: Float, beta2: Float, biasCorrection1 c1: Float, biasCorrection2 c2: Float,
                              gradientScale clip: Float) {
        let decay = lr * weightDecay, oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2
        typealias V = SIMD8<Float>
        var i = 0
        while i + 8 <= count {
            let gi = UnsafeRawPointer(grad + i).loadUnaligned(as: V.self) * clip
            let mi = beta1 * UnsafeRawPointer(m + i).loadUnaligned(as: V.self) + oneMinusB1 * gi
            let vi = beta2 * UnsafeRawPointer(v + i).loadUnaligned(as: V.self) + oneMinusB2 * gi * gi
            var wi = UnsafeRawPointer(w + i).loadUnaligned(as: V.self)
            wi -= decay * wi
            wi -= lr * (mi / c1) / ((vi / c2).squareRoot() + epsilon)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(w + i).storeBytes(of: wi, as: V.self)
            i += 8
        }
        while i < count {
            let gi = grad[i] * clip
            m[i] = beta1 * m[i] + oneMinusB1 * gi
            v[i] = beta2 * v[i] + oneMinusB2 * gi * gi
            w[i] -= decay * w[i]
            w[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
            i += 1
        }
    }
}
