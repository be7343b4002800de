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
        // Each weight row is unpacked once per group of up to four activation rows.
        for r in rows {
            let row = w.row(r), out = y + (r - rows.lowerBound)
            var i = 0
            while i < xRows {
                let n = min(4, xRows - i)
                switch (n, x.hasResidual) {
                case (4, false): group(K.self, row, w.blocksPerRow, ActivationGroup<4>(x, from: i), out, i, ldy, accumulate)
                case (3, false): group(K.self, row, w.blocksPerRow, ActivationGroup<3>(x, from: i), out, i, ldy, accumulate)
                case (2, false): group(K.self, row, w.blocksPerRow, ActivationGroup<2>(x, from: i), out, i, ldy, accumulate)
                case (_, false): group(K.self, row, w.blocksPerRow, ActivationGroup<1>(x, from: i), out, i, ldy, accumulate)
                case (4, true): group(K.self, row, w.blocksPerRow, TwoLevelGroup<4>(x, from: i), out, i, ldy, accumulate)
                case (3, true): group(K.self, row, w.blocksPerRow, TwoLevelGroup<3>(x, from: i), out, i, ldy, accumulate)
                case (2, true): group(K.self, row, w.blocksPerRow, TwoLevelGroup<2>(x, from: i), out, i, ldy, accumulate)
                case (_, true): group(K.self, row, w.blocksPerRow, TwoLevelGroup<1>(x, from: i), out, i, ldy, accumulate)
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

/// A group of activation rows as the dot kernels read them: per block of 32, multiply-add the same 32 unpacked
/// weight bytes into each row's fp32 accumulator. `ActivationGroup` holds up to four 8-bit rows;
/// `TwoLevelGroup` adds each row's 8-bit rounding residual as a second pass over the same weights (≈ 16-bit
/// activations, for the output head).
protocol ActivationRows {
    /// `acc_i += Σ w·x_i[block j] · scale·d_x` for unsigned weights `w` (0…63).
    mutating func addUnsigned(_ w: __m256i, block j: Int, scale: Float)
    /// The same for signed weights.
    mutating func addSigned(_ w: __m256i, block j: Int, scale: Float)
    /// q6_K: signed weights, one int16 scale for each half of the block (`scales16`), times `scale`.
    mutating func addSigned(_ w: __m256i, block j: Int, scales16: __m256i, scale: Float)
    /// `offset_i += m · d_x·Σq` of block j (a weight offset or minimum times the block's activations).
    mutating func addOffset(_ m: Float, block j: Int)
    /// Writes (or adds) row i's dot product at `y + i·ldy`.
    func store(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool)
}

@inline(__always) private func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }

/// `acc + float(sums) · scale`.
@inline(__always) private func accumulate(_ acc: __m256, _ sums: __m256i, _ scale: Float) -> __m256 {
    _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(scale), acc)
}

@inline(__always) private func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

struct ActivationGroup<let N: Int>: ActivationRows {
    var q: InlineArray<N, UnsafePointer<Int8>>
    var scales: InlineArray<N, UnsafePointer<Float>>
    var sums: InlineArray<N, UnsafePointer<Float>>
    var acc = InlineArray<N, __m256>(repeating: _mm256_setzero_ps())
    var offset = InlineArray<N, Float>(repeating: 0)

    /// Rows `first..<first + N` of `x`.
    @inline(__always)
    init(_ x: QuantizedActivations, from first: Int) {
        q = InlineArray { UnsafePointer(x.values + (first + $0) * x.columns) }
        scales = InlineArray { UnsafePointer(x.scales + (first + $0) * x.blocksPerRow) }
        sums = InlineArray { UnsafePointer(x.sums + (first + $0) * x.blocksPerRow) }
    }

    @inline(__always) mutating func addUnsigned(_ w: __m256i, block j: Int, scale: Float) {
        for i in 0..<N {
            let products = _mm256_madd_epi16(_mm256_maddubs_epi16(w, load(q[i] + 32 * j)), _mm256_set1_epi16(1))
            acc[i] = accumulate(acc[i], products, scale * scales[i][j])
        }
    }
    @inline(__always) mutating func addSigned(_ w: __m256i, block j: Int, scale: Float) {
        addSigned(w, block: j, scales16: _mm256_set1_epi16(1), scale: scale)
    }
    @inline(__always) mutating func addSigned(_ w: __m256i, block j: Int, scales16: __m256i, scale: Float) {
        // |w| times x with w's sign: vpmaddubsw wants its first operand unsigned.
        let magnitude = _mm256_sign_epi8(w, w)
        for i in 0..<N {
            let pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(load(q[i] + 32 * j), w))
            acc[i] = accumulate(acc[i], _mm256_madd_epi16(pairs, scales16), scale * scales[i][j])
        }
    }
    @inline(__always) mutating func addOffset(_ m: Float, block j: Int) {
        for i in 0..<N { offset[i] += m * sums[i][j] }
    }
    @inline(__always) func store(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        for i in 0..<N {
            let s = (acc[i] as SIMD8<Float>).sum() + offset[i]
            let out = y + i * ldy
            out.pointee = accumulate ? out.pointee + s : s
        }
    }
}

struct TwoLevelGroup<let N: Int>: ActivationRows {
    var first: ActivationGroup<N>, second: ActivationGroup<N>

    @inline(__always)
    init(_ x: QuantizedActivations, from row: Int) {
        first = ActivationGroup(x, from: row)
        second = ActivationGroup(x.residual!, from: row)
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
    @inline(__always) mutating func addOffset(_ m: Float, block j: Int) {
        first.addOffset(m, block: j)
        second.addOffset(m, block: j)
    }
    @inline(__always) func store(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        for i in 0..<N {
            let s = (first.acc[i] as SIMD8<Float>).sum() + first.offset[i] + (second.acc[i] as SIMD8<Float>).sum() + second.offset[i]
            let out = y + i * ldy
            out.pointee = accumulate ? out.pointee + s : s
        }
    }
}

// MARK: - 32-weight blocks

enum Q8_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        for b in 0..<blocks {
            let p = w + 34 * b
            x.addSigned(load(p + 2), block: b, scale: half(p, 0))
        }
    }
}

enum Q4_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        for b in 0..<blocks {
            let p = w + 18 * b
            x.addSigned(BlockBytes.minus(BlockBytes.nibbles(p + 2), 8), block: b, scale: half(p, 0))
        }
    }
}

enum Q4_1: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        for b in 0..<blocks {
            let p = w + 20 * b
            x.addUnsigned(BlockBytes.nibbles(p + 4), block: b, scale: half(p, 0))
            x.addOffset(half(p, 2), block: b)
        }
    }
}

enum Q5_0: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        for b in 0..<blocks {
            let p = w + 22 * b
            let five = BlockBytes.or(BlockBytes.nibbles(p + 6), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
            x.addSigned(BlockBytes.minus(five, 16), block: b, scale: half(p, 0))
        }
    }
}

enum Q5_1: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
        for b in 0..<blocks {
            let p = w + 24 * b
            let five = BlockBytes.or(BlockBytes.nibbles(p + 8), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            x.addUnsigned(five, block: b, scale: half(p, 0))
            x.addOffset(half(p, 2), block: b)
        }
    }
}

// MARK: - 256-weight super-blocks (activation blocks 8b…8b+7 line up with sub-blocks of 32)

/// q4_K and q5_K: sub-block j of super-block b is `d·s_j·q − dmin·m_j`, against activation block 8b + j.
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
        let d = half(p, 0), dmin = half(p, 2)
        let packed = KQuantScales(p + 4)
        for k in 0..<4 {
            let (lo, hi) = KQuantNibbles.subBlocks(p, k: k, fifth: fifth)
            let j = 8 * b + 2 * k
            let (s1, m1) = packed[2 * k], (s2, m2) = packed[2 * k + 1]
            x.addUnsigned(lo, block: j, scale: d * Float(s1))
            x.addUnsigned(hi, block: j + 1, scale: d * Float(s2))
            x.addOffset(-dmin * Float(m1), block: j)
            x.addOffset(-dmin * Float(m2), block: j + 1)
        }
    }
}

/// q6_K: group g of half h is `d·sc·(q − 32)` with one scale per 16 weights, against activation block 8b + 4h + g.
enum Q6_K: BlockDotKernel {
    @inline(__always)
    static func dot<A: ActivationRows>(_ w: UnsafeRawPointer, blocks: Int, _ x: inout A) {
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
    }
}
