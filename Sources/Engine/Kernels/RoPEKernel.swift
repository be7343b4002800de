import Foundation

/// Rotary position embedding of query/key heads, in either dimension pairing.
public struct RoPEKernel: Sendable {
    public let headDimension: Int
    public let layout: RotaryLayout
    /// `1 / θ^(2i/d)` for each pair, computed in fp32 as Hugging Face does.
    public let inverseFrequencies: [Float]

    /// How dimensions are paired for rotation (mirrors `ModelConfig.RopeLayout` without importing it here).
    public enum RotaryLayout: Sendable { case interleaved, halfSplit }

    public init(headDimension: Int, theta: Float, layout: RotaryLayout) {
        self.headDimension = headDimension
        self.layout = layout
        let half = headDimension / 2
        inverseFrequencies = (0..<half).map { i in 1 / powf(theta, Float(2 * i) / Float(headDimension)) }
    }

    /// The cosines and sines of position `position`'s angles (`headDimension / 2` each).
    @inline(__always)
    public func angles(position: Int, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        for i in 0..<(headDimension / 2) {
            let angle = Float(position) * inverseFrequencies[i]
            cos[i] = Foundation.cos(angle)
            sin[i] = Foundation.sin(angle)
        }
    }

    /// Rotates `heads` heads of width `headDimension` stored contiguously at `x` by the angles in `cos`/`sin`;
    /// `inverse` rotates the other way (the backward pass of a rotation).
    @inline(__always)
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
                      inverse: Bool = false) {
        let half = headDimension / 2
        let sign: Float = inverse ? -1 : 1
        for h in 0..<heads {
            let p = x + h * headDimension
            switch layout {
            case .interleaved:
                for i in 0..<half {
                    let a = p[2 * i], b = p[2 * i + 1], s = sign * sin[i]
                    p[2 * i] = a * cos[i] - b * s
                    p[2 * i + 1] = b * cos[i] + a * s
                }
            case .halfSplit:
                for i in 0..<half {
                    let a = p[i], b = p[i + half], s = sign * sin[i]
                    p[i] = a * cos[i] - b * s
                    p[i + half] = b * cos[i] + a * s
                }
            }
        }
    }

    /// Rotates the heads at `x` for token position `position` (angles computed into the `cos`/`sin` scratch).
    @inline(__always)
    public func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int,
                       cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        angles(position: position, cos: cos, sin: sin)
        apply(x, heads: heads, cos: cos, sin: sin)
    }

    /// Inverse rotation for token position `position`.
    @inline(__always)
    public func rotateInverse(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int,
                              cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        angles(position: position, cos: cos, sin: sin)
        apply(x, heads: heads, cos: cos, sin: sin, inverse: true)
    }
}
