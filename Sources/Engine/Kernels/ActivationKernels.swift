import Foundation

/// Element-wise kernels of the Llama block: SiLU-gated product, residual add, softmax, arg-max.
public enum ActivationKernels {
    /// `out[i] = silu(gate[i]) · up[i]` over `count` elements, `silu(x) = x / (1 + e^{-x})`.
    @inline(__always)
    public static func siluGate(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                into out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            out[i] = (g / (1 + expf(-g))) * up[i]
        }
    }

    /// `y[i] += x[i]`.
    @inline(__always)
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// `y[i] += a · x[i]`.
    @inline(__always)
    public static func addScaled(_ x: UnsafePointer<Float>, scale a: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a * x[i] }
    }

    /// Dot product in fp32 with 8 accumulation lanes.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < count { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// In-place numerically stable softmax of one row of `count` values.
    @inline(__always)
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        var sum: Float = 0
        for i in 0..<count {
            let e = expf(x[i] - m)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<count { x[i] *= inv }
    }

    /// Index of the largest value (the first one on ties, as `torch.argmax`).
    @inline(__always)
    public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        var bestValue = x[0]
        for i in 1..<count where x[i] > bestValue {
            best = i
            bestValue = x[i]
        }
        return best
    }

    /// `log Σ exp(x)` of one row, stable.
    @inline(__always)
    public static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        var sum: Double = 0
        for i in 0..<count { sum += Double(expf(x[i] - m)) }
        return Double(m) + log(sum)
    }
}
