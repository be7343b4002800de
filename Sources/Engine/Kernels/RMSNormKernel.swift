import Foundation

/// Root-mean-square normalisation of each row: `y = x / sqrt(mean(x²) + ε) · w`, in the order Hugging Face
/// computes it (normalise, then scale by the weight).
public enum RMSNormKernel {
    @inline(__always)
    public static func apply(_ x: UnsafePointer<Float>, rows: Int, width: Int, ldx: Int? = nil,
                             weight: UnsafePointer<Float>, epsilon: Float,
                             into y: UnsafeMutablePointer<Float>, ldy: Int? = nil) {
        let ldx = ldx ?? width, ldy = ldy ?? width
        for r in 0..<rows {
            let xr = x + r * ldx, yr = y + r * ldy
            let inv = inverseRMS(xr, width: width, epsilon: epsilon)
            for i in 0..<width { yr[i] = weight[i] * (xr[i] * inv) }
        }
    }

    /// `1 / sqrt(mean(x²) + ε)` of one row (sum accumulated in fp32 in 8 lanes).
    @inline(__always)
    public static func inverseRMS(_ x: UnsafePointer<Float>, width: Int, epsilon: Float) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= width {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            acc += v * v
            i += 8
        }
        var sum = acc.sum()
        while i < width { sum += x[i] * x[i]; i += 1 }
        return 1 / (sum / Float(width) + epsilon).squareRoot()
    }
}
