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
        // Each weight row is unpacked once per group of up to four activation rows; the rows ahead are prefetched.
        for r in rows {
            w.prefetch(after: r, before: rows.upperBound)
            let row = w.row(r), out = y + (r - rows.lowerBound)
            var i = 0
            while i < xRows {
                let n = min(4, xRows - i)
                switch (n, x.wide) {
                case (4, false): group(K.self, row, w.blocksPerRow, ActivationGroup<4>(x, from: i), out, i, ldy, accumulate)
                case (3, false): group(K.self, row, w.blocksPerRow, ActivationGroup<3>(x, from: i), out, i, ldy, accumulate)
                case (2, false): group(K.self, row, w.blocksPerRow, ActivationGroup<2>(x, from: i), out, i, ldy, accumulate)
                case (_, false): group(K.self, row, w.blocksPerRow, ActivationGroup<1>(x, from: i), out, i, ldy, accumulate)
                case (4, true): group(K.self, row, w.blocksPerRow, WideGroup<4>(x, from: i), out, i, ldy, accumulate)
                case (3, true): group(K.self, row, w.blocksPerRow, WideGroup<3>(x, from: i), out, i, ldy, accumulate)
                case (2, true): group(K.self, row, w.blocksPerRow, WideGroup<2>(x, from: i), out, i, ldy, accumulate)
                case (_, true): group(K.self, row, w.blocksPerRow, WideGroup<1>(x, from: i), out, i, ldy, accumulate)
                }
                i += n
            }
        }
    }

    @inline(__always)
    static func group<K: BlockDotKernel, A: ActivationRows>(_: K.Type, _ row: UnsafeRawPointer, _ blocks: Int, _ a: A,
                                                             _ out: UnsafeMutablePointer<Float>, _ first: Int, _ ldy: Int,
                                                             _ accumulate: Bool) {
        var a = a
        K.dot(row, blocks: blocks, &a)
        a.store(into: out + first * ldy, ldy: ldy, accumulate: accumulate)
    }
}

/// One weight type's dot product of a row of `blocks` blocks with a group of activation rows.
protocol BlockDotKernel {
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A)
}

/// A group of activation rows as the dot kernels read them, two blocks at a time: the same unpacked weight bytes
/// of blocks j and j+1 are multiplied into each row's accumulators, with coefficients `[a0, b0, a1, b1]`:
/// `row += a0·scale_j·Σ w0·x_j + b0·sum_j + a1·scale_{j+1}·Σ w1·x_{j+1} + b1·sum_{j+1}` (a = the weights' scale, b =
/// their offset or minimum). One 4-lane multiply scales both blocks for a row. `ActivationGroup` holds up to four
/// 8-bit rows (`vpmaddubsw` + `vpmaddwd`); `WideGroup` up to four 16-bit rows (weights widened to 16 bits,
/// `vpmaddwd`), for the output head.
protocol ActivationRows {
    /// `signed`: the weights are signed bytes (else 0…63). `halfScales`: q6_K's integer scales of the first and
    /// second 16 weights of each block, `[first₀, second₀, first₁, second₁]`, or nil.
    mutating func addPair(_ w0: __m256i, _ w1: __m256i, block j: Int, coefficients: __m128, signed: Bool,
                          halfScales: SIMD4<Int32>?)
    /// Writes (or adds) row i's dot product at `y + i·ldy`.
    func store(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool)
}

extension ActivationRows {
    @inline(__always)
    mutating func addPair(_ w0: __m256i, _ w1: __m256i, block j: Int, coefficients: __m128, signed: Bool) {
        addPair(w0, w1, block: j, coefficients: coefficients, signed: signed, halfScales: nil)
    }
}

@inline(__always) private func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }

/// The upper 16 bytes of `v`.
@inline(__always) private func high(_ v: __m256i) -> __m128i {
    unsafeBitCast(unsafeBitCast(v, to: SIMD32<UInt8>.self).highHalf, to: __m128i.self)
}

/// The two f16 numbers at `p0` and `p1` (each a 16-bit field), and the two after each when `withNext`, as
/// `[x0, y0, x1, y1]` (`y` = 0 without `withNext`).
@inline(__always) private func halves(_ p0: UnsafeRawPointer, _ p1: UnsafeRawPointer, withNext: Bool) -> __m128 {
    let a = withNext ? p0.loadUnaligned(as: UInt32.self) : UInt32(p0.loadUnaligned(as: UInt16.self))
    let b = withNext ? p1.loadUnaligned(as: UInt32.self) : UInt32(p1.loadUnaligned(as: UInt16.self))
    return _mm_cvtph_ps(_mm_set_epi32(0, 0, Int32(bitPattern: b), Int32(bitPattern: a)))
}

/// The accumulators of up to four rows: fp32 sums of the scaled block products, and the offset terms (lanes 1, 3).
struct RowAccumulators<let N: Int> {
    var acc = InlineArray<N, __m256>(repeating: _mm256_setzero_ps())
    var offset = InlineArray<N, __m128>(repeating: _mm_setzero_ps())

    /// Row i gets `p0`, `p1` (eight int32 partial sums of blocks j, j+1) scaled by `coefficients · factors`.
    @inline(__always)
    mutating func add(_ i: Int, _ p0: __m256i, _ p1: __m256i, coefficients: __m128, factors: UnsafePointer<Float>) {
        let scaled = _mm_mul_ps(coefficients, UnsafeRawPointer(factors).loadUnaligned(as: __m128.self))
        offset[i] = _mm_add_ps(offset[i], scaled)
        let wide = _mm256_castps128_ps256(scaled)
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_permutevar8x32_ps(wide, _mm256_setzero_si256()), acc[i])
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_permutevar8x32_ps(wide, _mm256_set1_epi32(2)), acc[i])
    }

    @inline(__always)
    func store(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        for i in 0..<N {
            let o = offset[i] as SIMD4<Float>
            let s = (acc[i] as SIMD8<Float>).sum() + (o[1] + o[3]), out = y + i * ldy
            out.pointee = accumulate ? out.pointee + s : s
        }
    }
}

struct ActivationGroup<let N: Int>: ActivationRows {
    var q: InlineArray<N, UnsafeRawPointer>
    var factors: InlineArray<N, UnsafePointer<Float>>
    var sums = RowAccumulators<N>()

    /// Rows `first..<first + N` of `x`.
    @inline(__always)
    init(_ x: QuantizedActivations, from first: Int) {
        q = InlineArray { UnsafeRawPointer(x.row(first + $0)) }
        factors = InlineArray { UnsafePointer(x.factors(first + $0)) }
    }

    /// Eight int32 partial sums of `w · x` (pairs of products scaled by `pairs`), for signed or unsigned `w`.
    @inline(__always)
    static func products(_ w: __m256i, _ x: __m256i, signed: Bool, _ pairs: __m256i) -> __m256i {
        // vpmaddubsw wants an unsigned first operand: for signed weights, |w| times x with w's sign.
        let bytes = signed ? _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)) : _mm256_maddubs_epi16(w, x)
        return _mm256_madd_epi16(bytes, pairs)
    }

    @inline(__always)
    mutating func addPair(_ w0: __m256i, _ w1: __m256i, block j: Int, coefficients: __m128, signed: Bool,
                          halfScales: SIMD4<Int32>?) {
        // Pairs 0–7 of a block's products cover weights 0–15, pairs 8–15 weights 16–31.
        let pairs0 = halfScales.map { _mm256_set_m128i(_mm_set1_epi16(Int16($0[1])), _mm_set1_epi16(Int16($0[0]))) } ?? _mm256_set1_epi16(1)
        let pairs1 = halfScales.map { _mm256_set_m128i(_mm_set1_epi16(Int16($0[3])), _mm_set1_epi16(Int16($0[2]))) } ?? _mm256_set1_epi16(1)
        for i in 0..<N {
            let p0 = Self.products(w0, load(q[i] + 32 * j), signed: signed, pairs0)
            let p1 = Self.products(w1, load(q[i] + 32 * (j + 1)), signed: signed, pairs1)
            sums.add(i, p0, p1, coefficients: coefficients, factors: factors[i] + 2 * j)
        }
    }

    @inline(__always) func store(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        sums.store(into: y, ldy: ldy, accumulate: accumulate)
    }
}

struct WideGroup<let N: Int>: ActivationRows {
    var q: InlineArray<N, UnsafeRawPointer>
    var factors: InlineArray<N, UnsafePointer<Float>>
    var sums = RowAccumulators<N>()

    @inline(__always)
    init(_ x: QuantizedActivations, from first: Int) {
        q = InlineArray { UnsafeRawPointer(x.row(first + $0)) }
        factors = InlineArray { UnsafePointer(x.factors(first + $0)) }
    }

    /// A block's 32 weight bytes as two vectors of 16-bit integers (weights 0–15, 16–31).
    @inline(__always)
    static func widen(_ w: __m256i, signed: Bool) -> (__m256i, __m256i) {
        let lo = _mm256_castsi256_si128(w), hi = high(w)
        return signed ? (_mm256_cvtepi8_epi16(lo), _mm256_cvtepi8_epi16(hi)) : (_mm256_cvtepu8_epi16(lo), _mm256_cvtepu8_epi16(hi))
    }

    /// Eight int32 partial sums of a block's `w · x` for 16-bit `x` at `x`; the halves scaled by `first`, `second`.
    @inline(__always)
    static func products(_ w: (__m256i, __m256i), _ x: UnsafeRawPointer, scales: (Int32, Int32)?) -> __m256i {
        let lo = _mm256_madd_epi16(w.0, load(x)), hi = _mm256_madd_epi16(w.1, load(x + 32))
        guard let scales else { return _mm256_add_epi32(lo, hi) }
        return _mm256_add_epi32(_mm256_mullo_epi32(lo, _mm256_set1_epi32(scales.0)), _mm256_mullo_epi32(hi, _mm256_set1_epi32(scales.1)))
    }

    @inline(__always)
    mutating func addPair(_ w0: __m256i, _ w1: __m256i, block j: Int, coefficients: __m128, signed: Bool,
                          halfScales: SIMD4<Int32>?) {
        let a = Self.widen(w0, signed: signed), b = Self.widen(w1, signed: signed)
        for i in 0..<N {
            let p0 = Self.products(a, q[i] + 64 * j, scales: halfScales.map { ($0[0], $0[1]) })
            let p1 = Self.products(b, q[i] + 64 * (j + 1), scales: halfScales.map { ($0[2], $0[3]) })
            sums.add(i, p0, p1, coefficients: coefficients, factors: factors[i] + 2 * j)
        }
    }

    @inline(__always) func store(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        sums.store(into: y, ldy: ldy, accumulate: accumulate)
    }
}

// MARK: - 32-weight blocks, two at a time (an odd last block is paired with zero weights and coefficients)

/// Calls `body(p0, p1, b, hasSecond)` for blocks b, b+1 of a row of `blocks` blocks of `size` bytes.
@inline(__always)
private func pairs(_ w: UnsafeRawPointer, blocks: Int, size: Int,
                   _ body: (UnsafeRawPointer, UnsafeRawPointer, Int, Bool) -> Void) {
    var b = 0
    while b + 1 < blocks {
        body(w + size * b, w + size * (b + 1), b, true)
        b += 2
    }
    if b < blocks { body(w + size * b, w + size * b, b, false) }
}

/// Keeps lanes 0–1 of `c` (the first block's coefficients) unless `second`.
@inline(__always) private func masked(_ c: __m128, _ second: Bool) -> __m128 {
    second ? c : _mm_movelh_ps(c, _mm_setzero_ps())
}

enum Q8_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        pairs(w, blocks: blocks, size: 34) { p0, p1, b, second in
            x.addPair(load(p0 + 2), second ? load(p1 + 2) : _mm256_setzero_si256(), block: b,
                      coefficients: masked(halves(p0, p1, withNext: false), second), signed: true)
        }
    }
}

enum Q4_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        pairs(w, blocks: blocks, size: 18) { p0, p1, b, second in
            x.addPair(BlockBytes.minus(BlockBytes.nibbles(p0 + 2), 8),
                      second ? BlockBytes.minus(BlockBytes.nibbles(p1 + 2), 8) : _mm256_setzero_si256(), block: b,
                      coefficients: masked(halves(p0, p1, withNext: false), second), signed: true)
        }
    }
}

enum Q4_1: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        pairs(w, blocks: blocks, size: 20) { p0, p1, b, second in
            x.addPair(BlockBytes.nibbles(p0 + 4), second ? BlockBytes.nibbles(p1 + 4) : _mm256_setzero_si256(), block: b,
                      coefficients: masked(halves(p0, p1, withNext: true), second), signed: false)
        }
    }
}

enum Q5_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        @inline(__always) func weights(_ p: UnsafeRawPointer) -> __m256i {
            BlockBytes.minus(BlockBytes.or(BlockBytes.nibbles(p + 6), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))), 16)
        }
        pairs(w, blocks: blocks, size: 22) { p0, p1, b, second in
            x.addPair(weights(p0), second ? weights(p1) : _mm256_setzero_si256(), block: b,
                      coefficients: masked(halves(p0, p1, withNext: false), second), signed: true)
        }
    }
}

enum Q5_1: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        @inline(__always) func weights(_ p: UnsafeRawPointer) -> __m256i {
            BlockBytes.or(BlockBytes.nibbles(p + 8), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        }
        pairs(w, blocks: blocks, size: 24) { p0, p1, b, second in
            x.addPair(weights(p0), second ? weights(p1) : _mm256_setzero_si256(), block: b,
                      coefficients: masked(halves(p0, p1, withNext: true), second), signed: false)
        }
    }
}

// MARK: - 256-weight super-blocks (activation blocks 8b…8b+7 line up with sub-blocks of 32)

/// q4_K and q5_K: sub-block j of super-block b is `d·s_j·q − dmin·m_j`, against activation block 8b + j; the
/// sub-blocks 2k and 2k+1 that share a group of `qs` bytes go as one pair.
enum Q4_K: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        kDot(w, blocks: blocks, fifth: false, &x)
    }
}

enum Q5_K: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        kDot(w, blocks: blocks, fifth: true, &x)
    }
}

@inline(__always)
private func kDot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, fifth: Bool, _ x: inout A) {
    let size = fifth ? 176 : 144
    for b in 0..<blocks {
        let p = w + size * b
        let dm = _mm_cvtph_ps(_mm_set_epi32(0, 0, 0, Int32(bitPattern: p.loadUnaligned(as: UInt32.self)))) as SIMD4<Float>
        let d = dm[0], dmin = dm[1]
        let packed = KQuantScales(p + 4)
        for k in 0..<4 {
            let (lo, hi) = KQuantNibbles.subBlocks(p, k: k, fifth: fifth)
            let (s1, m1) = packed[2 * k], (s2, m2) = packed[2 * k + 1]
            x.addPair(lo, hi, block: 8 * b + 2 * k,
                      coefficients: _mm_setr_ps(d * Float(s1), -dmin * Float(m1), d * Float(s2), -dmin * Float(m2)), signed: false)
        }
    }
}

/// q6_K: group g of half h is `d·sc·(q − 32)` with one scale per 16 weights, against activation block 8b + 4h + g;
/// groups 0–1 and 2–3 go as pairs, each with the int16 scales of its two halves.
enum Q6_K: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        for b in 0..<blocks {
            let p = w + 210 * b
            let d = RowDecoder.half(p, 208)
            let coefficients = _mm_setr_ps(d, 0, d, 0)
            for h in 0..<2 {
                let groups = Q6KHalf(p, h)
                let sc = (p + 192 + 8 * h).assumingMemoryBound(to: Int8.self)
                for g in stride(from: 0, to: 4, by: 2) {
                    x.addPair(groups[g], groups[g + 1], block: 8 * b + 4 * h + g, coefficients: coefficients, signed: true,
                              halfScales: SIMD4<Int32>(Int32(sc[2 * g]), Int32(sc[2 * g + 1]), Int32(sc[2 * g + 2]), Int32(sc[2 * g + 3])))
                }
            }
        }
    }
}
