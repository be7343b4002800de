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

    /// Rotates `heads` heads of width `headDimension` stored contiguously at `x` for token position `position`.
    @inline(__always)
    public func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int,
                       cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let half = headDimension / 2
        for i in 0..<half {
            let angle = Float(position) * inverseFrequencies[i]
            cos[i] = Foundation.cos(angle)
            sin[i] = Foundation.sin(angle)
        }
        for h in 0..<heads {
            let p = x + h * headDimension
            switch layout {
            case .interleaved:
                for i in 0..<half {
                    let a = p[2 * i], b = p[2 * i + 1]
                    p[2 * i] = a * cos[i] - b * sin[i]
                    p[2 * i + 1] = b * cos[i] + a * sin[i]
                }
            case .halfSplit:
                for i in 0..<half {
                    let a = p[i], b = p[i + half]
                    p[i] = a * cos[i] - b * sin[i]
                    p[i + half] = b * cos[i] + a * sin[i]
                }
            }
        }
    }

    /// Inverse rotation (rotation by −angle), used by the backward pass.
    @inline(__always)
    public func rotateInverse(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int,
                              cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let half = headDimension / 2
        for i in 0..<half {
            let angle = Float(position) * inverseFrequencies[i]
            cos[i] = Foundation.cos(angle)
            sin[i] = -Foundation.sin(angle)
        }
        for h in 0..<heads {
            let p = x + h * headDimension
            switch layout {
            case .interleaved:
                for i in 0..<half {
                    let a = p[2 * i], b = p[2 * i + 1]
                    p[2 * i] = a * cos[i] - b * sin[i]
                    p[2 * i + 1] = b * cos[i] + a * sin[i]
                }
            case .halfSplit:
                for i in 0..<half {
                    let a = p[i], b = p[i + half]
                    p[i] = a * cos[i] - b * sin[i]
                    p[i + half] = b * cos[i] + a * sin[i]
                }
            }
        }
    }
}
