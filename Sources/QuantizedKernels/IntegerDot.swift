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
        if x.hasResidual {
            run(K.self, w, rows, xRows, y, ldy, accumulate) { TwoLevelRow(x, row: $0) }
        } else {
            run(K.self, w, rows, xRows, y, ldy, accumulate) { OneLevelRow(x, row: $0) }
        }
    }

    @inline(__always)
    static func run<K: BlockDotKernel, A: ActivationRow>(_: K.Type, _ w: EncodedRows, _ rows: Range<Int>, _ xRows: Int,
                                                         _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ accumulate: Bool,
                                                         _ activation: (Int) -> A) {
        let blocks = w.blocksPerRow
        for r in rows {
            let row = w.row(r)
            for i in 0..<xRows {
                var a = activation(i)
                let s = K.dot(row, blocks: blocks, &a)
                let out = y + i * ldy + (r - rows.lowerBound)
                out.pointee = accumulate ? out.pointee + s : s
            }
        }
    }
}

/// One weight type's dot product of a row of `blocks` blocks with one activation row.
protocol BlockDotKernel {
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float
}

/// One activation row as the dot kernels read it: per block of 32, multiply-add 32 weight bytes into fp32
/// accumulators and give the block's sum. `OneLevelRow` is the 8-bit row; `TwoLevelRow` adds the 8-bit rounding
/// residual as a second pass over the same unpacked weights (≈ 16-bit activations, for the output head).
protocol ActivationRow {
    /// `acc += Σ w·x_j · scale·d_x` for unsigned weights `w` (0…63).
    mutating func addUnsigned(_ w: __m256i, block j: Int, scale: Float)
    /// The same for signed weights.
    mutating func addSigned(_ w: __m256i, block j: Int, scale: Float)
    /// q6_K: signed weights, one int16 scale for each half of the block (`scales16`), times `scale`.
    mutating func addSigned(_ w: __m256i, block j: Int, scales16: __m256i, scale: Float)
    /// `d_x · Σ q` of block j (what a weight offset multiplies).
    func sum(_ j: Int) -> Float
    /// The accumulated dot product.
    func total() -> Float
}

@inline(__always) private func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }

/// Eight int32 partial sums of `w · x` for unsigned `w` (0…63) and signed `x`.
@inline(__always) private func unsignedDot(_ w: __m256i, _ x: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1))
}

/// Eight int32 partial sums of `w · x` for signed `w` and `x`: |w| times x with w's sign.
@inline(__always) private func signedDot(_ w: __m256i, _ x: __m256i, _ pairs: __m256i = _mm256_set1_epi16(1)) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)), pairs)
}

/// `acc + float(sums) · scale`.
@inline(__always) private func accumulate(_ acc: __m256, _ sums: __m256i, _ scale: Float) -> __m256 {
    _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(scale), acc)
}

@inline(__always) private func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

struct OneLevelRow: ActivationRow {
    let q: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>
    var acc = _mm256_setzero_ps()

    @inline(__always)
    init(_ x: QuantizedActivations, row i: Int) {
        q = UnsafePointer(x.values + i * x.columns)
        scales = UnsafePointer(x.scales + i * x.blocksPerRow)
        sums = UnsafePointer(x.sums + i * x.blocksPerRow)
    }

    @inline(__always) mutating func addUnsigned(_ w: __m256i, block j: Int, scale: Float) {
        acc = accumulate(acc, unsignedDot(w, load(q + 32 * j)), scale * scales[j])
    }
    @inline(__always) mutating func addSigned(_ w: __m256i, block j: Int, scale: Float) {
        acc = accumulate(acc, signedDot(w, load(q + 32 * j)), scale * scales[j])
    }
    @inline(__always) mutating func addSigned(_ w: __m256i, block j: Int, scales16: __m256i, scale: Float) {
        acc = accumulate(acc, signedDot(w, load(q + 32 * j), scales16), scale * scales[j])
    }
    @inline(__always) func sum(_ j: Int) -> Float { sums[j] }
    @inline(__always) func total() -> Float { (acc as SIMD8<Float>).sum() }
}

struct TwoLevelRow: ActivationRow {
    var first: OneLevelRow, second: OneLevelRow

    @inline(__always)
    init(_ x: QuantizedActivations, row i: Int) {
        first = OneLevelRow(x, row: i)
        second = OneLevelRow(x.residual!, row: i)
    }

    @inline(__always) mutating func addUnsigned(_ w: __m256i, block j: Int, scale: Float) {
        first.addUnsigned(w, block: j, scale: scale)
        second.addUnsigned(w, block: j, scale: scale)
    }
    @inline(__always) mutating func addSigned(_ w: __m256i, block j: Int, scale: Float) {
        first.addSigned(w, block: j, scale: scale)
        second.addSigned(w, block: j, scale: scale)
    }
    @inline(__always) mutating func addSigned(_ w: __m256i, block j: Int, scales16: __m256i, scale: Float) {
        first.addSigned(w, block: j, scales16: scales16, scale: scale)
        second.addSigned(w, block: j, scales16: scales16, scale: scale)
    }
    @inline(__always) func sum(_ j: Int) -> Float { first.sum(j) + second.sum(j) }
    @inline(__always) func total() -> Float { first.total() + second.total() }
}

// MARK: - 32-weight blocks

enum Q8_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        for b in 0..<blocks {
            let p = w + 34 * b
            x.addSigned(load(p + 2), block: b, scale: half(p, 0))
        }
        return x.total()
    }
}

enum Q4_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        for b in 0..<blocks {
            let p = w + 18 * b
            x.addSigned(BlockBytes.minus(BlockBytes.nibbles(p + 2), 8), block: b, scale: half(p, 0))
        }
        return x.total()
    }
}

enum Q4_1: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        var offset: Float = 0
        for b in 0..<blocks {
            let p = w + 20 * b
            x.addUnsigned(BlockBytes.nibbles(p + 4), block: b, scale: half(p, 0))
            offset += half(p, 2) * x.sum(b)
        }
        return x.total() + offset
    }
}

enum Q5_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        for b in 0..<blocks {
            let p = w + 22 * b
            let five = BlockBytes.or(BlockBytes.nibbles(p + 6), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
            x.addSigned(BlockBytes.minus(five, 16), block: b, scale: half(p, 0))
        }
        return x.total()
    }
}

enum Q5_1: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        var offset: Float = 0
        for b in 0..<blocks {
            let p = w + 24 * b
            let five = BlockBytes.or(BlockBytes.nibbles(p + 8), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            x.addUnsigned(five, block: b, scale: half(p, 0))
            offset += half(p, 2) * x.sum(b)
        }
        return x.total() + offset
    }
}

// MARK: - 256-weight super-blocks (activation blocks 8b…8b+7 line up with sub-blocks of 32)

/// q4_K and q5_K: sub-block j of super-block b is `d·s_j·q − dmin·m_j`, against activation block 8b + j.
enum Q4_K: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        kDot(w, blocks: blocks, fifth: false, &x)
    }
}

enum Q5_K: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        kDot(w, blocks: blocks, fifth: true, &x)
    }
}

@inline(__always)
private func kDot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, fifth: Bool, _ x: inout A) -> Float {
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
            x.addUnsigned(lo, block: j, scale: d * Float(s1))
            x.addUnsigned(hi, block: j + 1, scale: d * Float(s2))
            blockMinima += Float(m1) * x.sum(j) + Float(m2) * x.sum(j + 1)
        }
        minima += half(p, 2) * blockMinima
    }
    return x.total() - minima
}

/// q6_K: group g of half h is `d·sc·(q − 32)` with one scale per 16 weights, against activation block 8b + 4h + g.
enum Q6_K: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRow>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) -> Float {
        for b in 0..<blocks {
            let p = w + 210 * b
            let d = half(p, 208)
            for h in 0..<2 {
                let groups = Q6KHalf(p, h)
                let sc = (p + 192 + 8 * h).assumingMemoryBound(to: Int8.self)
                for g in 0..<4 {
                    // Pairs 0–7 of the block cover weights 0–15 (scale 2g), pairs 8–15 weights 16–31 (scale 2g+1).
                    let scales16 = _mm256_set_m128i(_mm_set1_epi16(Int16(sc[2 * g + 1])), _mm_set1_epi16(Int16(sc[2 * g])))
                    x.addSigned(groups[g], block: 8 * b + 4 * h + g, scales16: scales16, scale: d)
                }
            }
        }
        return x.total()
    }
}
