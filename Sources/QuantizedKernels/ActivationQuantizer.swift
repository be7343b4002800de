import _Builtin_intrinsics.intel

/// Rows of activations quantized to 8 bits in blocks of 32, the form the integer dot products read (as llama.cpp's
/// q8_0/q8_1 activations): for block b of a row, `x ≈ scale[b] · q[i]` with `scale = max|x| / 127` and
/// `q = round-to-nearest-even(x / scale)` in −127…127, and `sum[b] = scale[b] · Σ q` (what a weight's
/// offset `m` multiplies).
///
/// With `residual`, the rounding error `x − scale·q` is quantized the same way into a second set of rows, and the
/// dot kernels add its product too: the activations are then exact to about 1/127² of a block's largest value
/// (16-bit precision, for the output head, whose logits feed a softmax over the whole vocabulary).
public final class QuantizedActivations: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let values: UnsafeMutablePointer<Int8>
    public let scales: UnsafeMutablePointer<Float>
    public let sums: UnsafeMutablePointer<Float>
    /// The second level (the rounding residual), when asked for.
    public let residual: QuantizedActivations?

    public var hasResidual: Bool { residual != nil }

    /// Room for `rows` rows of `columns` (a multiple of 32) values; `twoLevel` adds the residual level.
    public init(rows: Int, columns: Int, twoLevel: Bool = false) {
        precondition(columns % 32 == 0, "QuantizedActivations: \(columns) columns is not a multiple of 32")
        self.rows = rows
        self.columns = columns
        values = .allocate(capacity: max(rows * columns, 32))
        scales = .allocate(capacity: max(rows * columns / 32, 1))
        sums = .allocate(capacity: max(rows * columns / 32, 1))
        residual = twoLevel ? QuantizedActivations(rows: rows, columns: columns) : nil
    }

    deinit {
        values.deallocate()
        scales.deallocate()
        sums.deallocate()
    }

    public var blocksPerRow: Int { columns / 32 }

    /// Quantizes `count` rows of `x` (row stride `ldx`) into rows `0..<count` (and their residuals).
    public func quantize(_ x: UnsafePointer<Float>, rows count: Int, ldx: Int) {
        precondition(count <= rows)
        var rest = [Float](repeating: 0, count: residual == nil ? 0 : 32)
        for r in 0..<count {
            let src = x + r * ldx
            for b in 0..<blocksPerRow {
                let block = r * blocksPerRow + b
                let (scale, sum) = Self.quantizeBlock(src + 32 * b, into: values + block * 32)
                scales[block] = scale
                sums[block] = scale * Float(sum)
                guard let residual else { continue }
                for i in 0..<32 { rest[i] = src[32 * b + i] - scale * Float(values[block * 32 + i]) }
                let (s2, sum2) = rest.withUnsafeBufferPointer { Self.quantizeBlock($0.baseAddress!, into: residual.values + block * 32) }
                residual.scales[block] = s2
                residual.sums[block] = s2 * Float(sum2)
            }
        }
    }

    /// One block of 32: returns the scale and Σq. Rounds with `vcvtps2dq` (to nearest even, the default mode).
    @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, into q: UnsafeMutablePointer<Int8>) -> (Float, Int32) {
        let raw = UnsafeRawPointer(x)
        let v = (raw.loadUnaligned(as: SIMD8<Float>.self), raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                 raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), raw.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
        let m = pointwiseMax(pointwiseMax(abs(v.0), abs(v.1)), pointwiseMax(abs(v.2), abs(v.3))).max()
        let scale = m / 127
        let inverse = _mm256_set1_ps(scale > 0 ? 1 / scale : 0)
        let i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v.0, inverse)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v.1, inverse))
        let i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v.2, inverse)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v.3, inverse))
        // Pack 32 int32 → 32 int8 (the packs work within 128-bit lanes; the permute restores element order).
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3)),
                                                _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
        UnsafeMutableRawPointer(q).storeBytes(of: bytes, as: __m256i.self)
        let sum = unsafeBitCast(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)), to: SIMD8<Int32>.self)
        return (scale, sum.wrappedSum())
    }
}

private func abs(_ v: SIMD8<Float>) -> SIMD8<Float> {
    SIMD8<Float>(bitPattern: v.bitPattern & 0x7FFF_FFFF)
}

extension SIMD8 where Scalar == Float {
    @inline(__always) init(bitPattern: SIMD8<UInt32>) { self = unsafeBitCast(bitPattern, to: SIMD8<Float>.self) }
    @inline(__always) var bitPattern: SIMD8<UInt32> { unsafeBitCast(self, to: SIMD8<UInt32>.self) }
}
