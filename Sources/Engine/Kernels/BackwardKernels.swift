import Foundation

/// Backward passes of the element-wise kernels (RMSNorm, SiLU gate), each checked against finite differences
/// in `Tests/EngineTests/GradientCheckTests.swift`.
public enum BackwardKernels {
    /// Given `dy` for `y = w ⊙ x · r` with `r = (mean(x²) + ε)^(-1/2)`, adds `dx` into `dx` and `Σ_rows dy ⊙ x · r`
    /// into `dw` (when given).
    public static func rmsNorm(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, width: Int,
                               weight w: UnsafePointer<Float>, epsilon: Float, dx: UnsafeMutablePointer<Float>,
                               dw: UnsafeMutablePointer<Float>?) {
        for row in 0..<rows {
            let xr = x + row * width, dyr = dy + row * width, dxr = dx + row * width
            let r = RMSNormKernel.inverseRMS(xr, width: width, epsilon: epsilon)
            var dot: Float = 0
            for i in 0..<width { dot += w[i] * dyr[i] * xr[i] }
            let c = r * r * r * dot / Float(width)
            for i in 0..<width { dxr[i] += r * w[i] * dyr[i] - c * xr[i] }
            if let dw { for i in 0..<width { dw[i] += dyr[i] * xr[i] * r } }
        }
    }

    /// Given `dh` for `h = silu(g) ⊙ u`, writes `dg` and `du`.
    public static func siluGate(gate g: UnsafePointer<Float>, up u: UnsafePointer<Float>, dh: UnsafePointer<Float>,
                                dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let s = 1 / (1 + expf(-g[i]))
            dUp[i] = dh[i] * g[i] * s
            dGate[i] = dh[i] * u[i] * s * (1 + g[i] * (1 - s))
        }
    }
}
