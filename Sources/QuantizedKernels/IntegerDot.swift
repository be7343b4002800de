import _Builtin_intrinsics.intel
import ModelFormats

// Compiled for AVX2 + FMA + F16C (Package.swift): call only when `CPUFeatures.hasAVX2` (the Engine checks).

/// Dot products of encoded weight rows with 8-bit activation rows (`QuantizedActivations`), in integers: per
/// block of 32, `vpmaddubsw` multiplies unsigned weights (or |w|, with x given w's sign) by signed activations and
/// adds pairs, `vpmaddwd` adds pairs again, and the eight int32 partial sums are scaled by `d_w · d_x` into fp32
/// accumulators. Offsets and minima use the activation block sums. This is the decode path of native weights: a
/// block of q4 weights costs a handful of instructions, so a decode step is bound by reading the weights.
///
/// The result is `Σ_blocks d_w·d_x·Σ q_w·q_x (+ m_w·sum_x)` — the exact dot product of the dequantized weights with
/// the dequantized activations, up to fp32 rounding of the per-block terms.
public enum IntegerDot {
    /// `y[i · ldy + (r − rows.lowerBound)] (+)= w_r · x_i` for weight rows `rows` and activation rows `0..<xRows`.
    public static func product(_ w: EncodedRows, rows: Range<Int>, x: QuantizedActivations, xRows: Int,
                               into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        precondition(w.columns == x.columns, "IntegerDot: weight rows have \(w.columns) columns, activations \(x.columns)")
        switch w.type {
        case .q8_0: run(Q8_0.self, w, rows, x, xRows, y, ldy, accumulate)
        case .q4_0: run(Q4_0.self, w, rows, x, xRows, y, ldy, accumulate)
        case .q4_1: run(Q4_1.self, w, rows, x, xRows, y, ldy, accumulate)
        case .q5_0: run(Q5_0.self, w, rows, x, xRows, y, ldy, accumulate)
        case .q5_1: run(Q5_1.self, w, rows, x, xRows, y, ldy, accumulate)
        case .q4_K: run(Q4_K.self, w, rows, x, xRows, y, ldy, accumulate)
        case .q5_K: run(Q5_K.self, w, rows, x, xRows, y, ldy, accumulate)
        case .q6_K: run(Q6_K.self, w, rows, x, xRows, y, ldy, accumulate)
        default: preconditionFailure("IntegerDot: \(w.type.name) is not an integer-quantized type (use FloatDot)")
        }
    }

    /// Whether `type` is read through this kernel (the block-quantized types) rather than `FloatDot`.
    public static func handles(_ type: GGMLType) -> Bool {
        switch type {
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K: true
        default: false
        }
    }

    @inline(__always)
    static func run<K: BlockDotKernel>(_: K.Type, _ w: EncodedRows, _ rows: Range<Int>, _ x: QuantizedActivations,
                                       _ xRows: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ accumulate: Bool) {
        let blocks = w.blocksPerRow, xBlocks = x.blocksPerRow
        for r in rows {
            let row = w.row(r)
            for i in 0..<xRows {
                let s = K.dot(row, blocks: blocks, q: x.values + i * x.columns, scales: x.scales + i * xBlocks,
                              sums: x.sums + i * xBlocks)
                let out = y + i * ldy + (r - rows.lowerBound)
                out.pointee = accumulate ? out.pointee + s : s
            }
        }
    }
}

/// One weight type's dot product of a row of `blocks` blocks with one activation row.
protocol BlockDotKernel {
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float
}

// MARK: - Shared steps

@inline(__always) private func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
@inline(__always) private func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// Eight int32 partial sums of `w · x` for unsigned `w` (0…63) and signed `x`.
@inline(__always) private func unsignedDot(_ w: __m256i, _ x: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1))
}

/// Eight int32 partial sums of `w · x` for signed `w` and `x`: |w| times x with w's sign.
@inline(__always) private func signedDot(_ w: __m256i, _ x: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)), _mm256_set1_epi16(1))
}

/// `acc + float(sums) · scale`.
@inline(__always) private func accumulate(_ acc: __m256, _ sums: __m256i, _ scale: Float) -> __m256 {
    _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(scale), acc)
}

@inline(__always) private func total(_ acc: __m256) -> Float { (acc as SIMD8<Float>).sum() }

// MARK: - 32-weight blocks

enum Q8_0: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        var acc = _mm256_setzero_ps()
        for b in 0..<blocks {
            let p = w + 34 * b
            acc = accumulate(acc, signedDot(load(p + 2), load(q + 32 * b)), half(p, 0) * scales[b])
        }
        return total(acc)
    }
}

enum Q4_0: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        var acc = _mm256_setzero_ps()
        for b in 0..<blocks {
            let p = w + 18 * b
            let weights = BlockBytes.minus(BlockBytes.nibbles(p + 2), 8)
            acc = accumulate(acc, signedDot(weights, load(q + 32 * b)), half(p, 0) * scales[b])
        }
        return total(acc)
    }
}

enum Q4_1: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        var acc = _mm256_setzero_ps()
        var offset: Float = 0
        for b in 0..<blocks {
            let p = w + 20 * b
            acc = accumulate(acc, unsignedDot(BlockBytes.nibbles(p + 4), load(q + 32 * b)), half(p, 0) * scales[b])
            offset += half(p, 2) * sums[b]
        }
        return total(acc) + offset
    }
}

enum Q5_0: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        var acc = _mm256_setzero_ps()
        for b in 0..<blocks {
            let p = w + 22 * b
            let five = BlockBytes.or(BlockBytes.nibbles(p + 6), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
            acc = accumulate(acc, signedDot(BlockBytes.minus(five, 16), load(q + 32 * b)), half(p, 0) * scales[b])
        }
        return total(acc)
    }
}

enum Q5_1: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        var acc = _mm256_setzero_ps()
        var offset: Float = 0
        for b in 0..<blocks {
            let p = w + 24 * b
            let five = BlockBytes.or(BlockBytes.nibbles(p + 8), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            acc = accumulate(acc, unsignedDot(five, load(q + 32 * b)), half(p, 0) * scales[b])
            offset += half(p, 2) * sums[b]
        }
        return total(acc) + offset
    }
}

// MARK: - 256-weight super-blocks (activation blocks 8b…8b+7 line up with sub-blocks of 32)

/// q4_K and q5_K: sub-block j of super-block b is `d·s_j·q − dmin·m_j`, against activation block 8b + j.
enum Q4_K: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        kDot(w, blocks: blocks, fifth: false, q: q, scales: scales, sums: sums)
    }
}

enum Q5_K: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        kDot(w, blocks: blocks, fifth: true, q: q, scales: scales, sums: sums)
    }
}

@inline(__always)
private func kDot(_ w: UnsafeRawPointer, blocks: Int, fifth: Bool, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                  sums: UnsafePointer<Float>) -> Float {
    var acc = _mm256_setzero_ps()
    var minima: Float = 0
    let size = fifth ? 176 : 144
    for b in 0..<blocks {
        let p = w + size * b
        let d = half(p, 0)
        let packed = KQuantScales(p + 4)
        var blockMinima: Float = 0
        for k in 0..<4 {
            let (lo, hi) = KQuantNibbles.subBlocks(p, k: k, fifth: fifth)
            let j = 8 * b + 2 * k
            let (s1, m1) = packed[2 * k], (s2, m2) = packed[2 * k + 1]
            acc = accumulate(acc, unsignedDot(lo, load(q + 32 * j)), d * Float(s1) * scales[j])
            acc = accumulate(acc, unsignedDot(hi, load(q + 32 * (j + 1))), d * Float(s2) * scales[j + 1])
            blockMinima += Float(m1) * sums[j] + Float(m2) * sums[j + 1]
        }
        minima += half(p, 2) * blockMinima
    }
    return total(acc) - minima
}

/// q6_K: group g of half h is `d·sc·(q − 32)` with one scale per 16 weights, against activation block 8b + 4h + g.
enum Q6_K: BlockDotKernel {
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, blocks: Int, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                    sums: UnsafePointer<Float>) -> Float {
        var acc = _mm256_setzero_ps()
        for b in 0..<blocks {
            let p = w + 210 * b
            let d = half(p, 208)
            for h in 0..<2 {
                let groups = Q6KHalf(p, h)
                let sc = (p + 192 + 8 * h).assumingMemoryBound(to: Int8.self)
                for g in 0..<4 {
                    let weights = groups[g]
                    let j = 8 * b + 4 * h + g
                    let x = load(q + 32 * j)
                    let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(weights, weights), _mm256_sign_epi8(x, weights))
                    // Lanes 0–7 of `pairs` cover weights 0–15 (scale 2g), lanes 8–15 weights 16–31 (scale 2g+1).
                    let scale16 = _mm256_set_m128i(_mm_set1_epi16(Int16(sc[2 * g + 1])), _mm_set1_epi16(Int16(sc[2 * g])))
                    acc = accumulate(acc, _mm256_madd_epi16(pairs, scale16), d * scales[j])
                }
            }
        }
        return total(acc)
    }
}
