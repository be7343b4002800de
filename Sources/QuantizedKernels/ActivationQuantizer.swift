import _Builtin_intrinsics.intel

/// Rows of activations quantized to 8 bits in blocks of 32, the form the integer dot products read (as llama.cpp's
/// q8_0/q8_1 activations): for block b of a row, `x ≈ scale(b) · q[i]` with `scale = max|x| / 127` and
/// `q = round-to-nearest-even(x / scale)` in −127…127, and `sum(b) = scale(b) · Σ q` (what a weight's
/// offset `m` multiplies). Scale and sum sit side by side (`factors`: scale, sum, scale, sum, …) so that a kernel
/// reads two blocks' four numbers with one load; every row ends with one zero block, so a kernel may read a pair
/// past an odd last block.
///
/// `wide` rows hold 16-bit values instead (`scale = max|x| / 32767`): exact to about 1/65534 of a block's largest
/// value, for the output head, whose logits feed a softmax over the whole vocabulary.
public final class QuantizedActivations: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// 16-bit values (`Int16`) rather than 8-bit ones.
    public let wide: Bool
    /// The values, `Int8` or `Int16` (`wide`).
    let storage: UnsafeMutableRawPointer
    /// Per block: scale, then sum.
    public let factors: UnsafeMutablePointer<Float>

    /// Room for `rows` rows of `columns` (a multiple of 32) values.
    public init(rows: Int, columns: Int, wide: Bool = false) {
        precondition(columns % 32 == 0, "QuantizedActivations: \(columns) columns is not a multiple of 32")
        self.rows = rows
        self.columns = columns
        self.wide = wide
        let blocks = rows * (columns / 32 + 1)
        storage = .allocate(byteCount: blocks * 32 * (wide ? 2 : 1), alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: blocks * 32 * (wide ? 2 : 1))
        factors = .allocate(capacity: 2 * blocks)
        factors.initialize(repeating: 0, count: 2 * blocks)
    }

    deinit {
        storage.deallocate()
        factors.deallocate()
    }

    public var blocksPerRow: Int { columns / 32 }
    /// Blocks a row occupies: its own and the zero block after them.
    public var blockStride: Int { columns / 32 + 1 }

    /// Row `r`'s quantized values (bytes; `Int16` pairs when `wide`).
    @inline(__always) public func row(_ r: Int) -> UnsafeMutableRawPointer { storage + r * blockStride * 32 * (wide ? 2 : 1) }
    /// Row `r`'s factors.
    @inline(__always) public func factors(_ r: Int) -> UnsafeMutablePointer<Float> { factors + r * blockStride * 2 }
    /// The scale and sum of block `b` of row `r`.
    public func scale(row r: Int, block b: Int) -> Float { factors(r)[2 * b] }
    public func sum(row r: Int, block b: Int) -> Float { factors(r)[2 * b + 1] }
    /// The quantized value `i` of row `r`.
    public func value(row r: Int, _ i: Int) -> Int {
        wide ? Int(row(r).load(fromByteOffset: 2 * i, as: Int16.self)) : Int(row(r).load(fromByteOffset: i, as: Int8.self))
    }

    /// Quantizes `count` rows of `x` (row stride `ldx`) into rows `0..<count`.
    public func quantize(_ x: UnsafePointer<Float>, rows count: Int, ldx: Int) {
        precondition(count <= rows)
        for r in 0..<count {
            let src = x + r * ldx, q = row(r), f = factors(r)
            for b in 0..<blocksPerRow {
                let (scale, sum) = wide ? Self.quantizeWideBlock(src + 32 * b, into: q + 64 * b)
                                        : Self.quantizeBlock(src + 32 * b, into: q + 32 * b)
                f[2 * b] = scale
                f[2 * b + 1] = scale * Float(sum)
            }
        }
    }

    @inline(__always)
    static func load32(_ x: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let raw = UnsafeRawPointer(x)
        return (raw.loadUnaligned(as: SIMD8<Float>.self), raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), raw.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
    }

    /// One block of 32 in 16 bits: returns the scale and Σq.
    @inline(__always)
    static func quantizeWideBlock(_ x: UnsafePointer<Float>, into q: UnsafeMutableRawPointer) -> (Float, Int32) {
        let v = load32(x)
        let scale = largestMagnitude(v.0, v.1, v.2, v.3) / 32767
        let inverse = _mm256_set1_ps(scale > 0 ? 1 / scale : 0)
        let i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v.0, inverse)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v.1, inverse))
        let i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v.2, inverse)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v.3, inverse))
        // Pack int32 → int16 within 128-bit lanes, then restore element order.
        let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
        q.storeBytes(of: _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i0, i1), order), as: __m256i.self)
        (q + 32).storeBytes(of: _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i2, i3), order), as: __m256i.self)
        let sum = unsafeBitCast(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)), to: SIMD8<Int32>.self)
        return (scale, sum.wrappedSum())
    }

    /// One block of 32: returns the scale and Σq. Rounds with `vcvtps2dq` (to nearest even, the default mode).
    @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, into q: UnsafeMutableRawPointer) -> (Float, Int32) {
        let v = load32(x)
        let m = largestMagnitude(v.0, v.1, v.2, v.3)
        let scale = m / 127
        let inverse = _mm256_set1_ps(scale > 0 ? 1 / scale : 0)
        let i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v.0, inverse)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v.1, inverse))
        let i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v.2, inverse)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v.3, inverse))
        // Pack 32 int32 → 32 int8 (the packs work within 128-bit lanes; the permute restores element order).
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3)),
                                                _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
        q.storeBytes(of: bytes, as: __m256i.self)
        let sum = unsafeBitCast(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)), to: SIMD8<Int32>.self)
        return (scale, sum.wrappedSum())
    }
}

/// The largest |x| of 32 values (`vmaxps` on the sign-cleared lanes).
@inline(__always)
func largestMagnitude(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>) -> Float {
    let mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF))
    let m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(a, mask), _mm256_and_ps(b, mask)),
                          _mm256_max_ps(_mm256_and_ps(c, mask), _mm256_and_ps(d, mask)))
    let half = _mm_max_ps(_mm256_castps256_ps128(m), (m as SIMD8<Float>).highHalf)
    let pairs = _mm_max_ps(half, _mm_movehl_ps(half, half))
    return (_mm_max_ss(pairs, _mm_movehdup_ps(pairs)) as SIMD4<Float>)[0]
}
