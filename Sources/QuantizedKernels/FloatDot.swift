import ModelFormats

// Compiled for AVX2 + FMA + F16C (Package.swift): call only when `CPUFeatures.hasAVX2` (the Engine checks).

/// Dot products of f16, bf16 or f32 weight rows with fp32 activation rows: each chunk of 8 weights is widened
/// to fp32 in registers (F16C `vcvtph2ps`, a shift for bf16) and multiplied into SIMD8 FMA accumulators. These
/// types are read at 2–4 bytes a weight, so their decode steps are bound by memory with no need to quantize the
/// activations.
public enum FloatDot {
    /// `y[i · ldy + (r − rows.lowerBound)] (+)= w_r · x_i` for weight rows `rows` and `xRows` rows of `x` (stride `ldx`).
    public static func product(_ w: EncodedRows, rows: Range<Int>, x: UnsafePointer<Float>, ldx: Int, xRows: Int,
                               into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        switch w.type {
        case .f16: run(w, rows, x, ldx, xRows, y, ldy, accumulate) { p, i in SIMD8<Float>(p.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self)) } scalar: { p, i in
            Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16: run(w, rows, x, ldx, xRows, y, ldy, accumulate) { p, i in
            unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)) &<< 16, to: SIMD8<Float>.self)
        } scalar: { p, i in Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        case .f32: run(w, rows, x, ldx, xRows, y, ldy, accumulate) { p, i in p.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) } scalar: { p, i in
            p.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        default: preconditionFailure("FloatDot: \(w.type.name) is not a floating-point type (use IntegerDot)")
        }
    }

    @inline(__always)
    static func run(_ w: EncodedRows, _ rows: Range<Int>, _ x: UnsafePointer<Float>, _ ldx: Int, _ xRows: Int,
                    _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ accumulate: Bool,
                    chunk: (UnsafeRawPointer, Int) -> SIMD8<Float>, scalar: (UnsafeRawPointer, Int) -> Float) {
        let k = w.columns, k8 = k & ~7
        for r in rows {
            w.prefetch(after: r, before: rows.upperBound)
            let row = w.row(r)
            for i in 0..<xRows {
                let xi = UnsafeRawPointer(x + i * ldx)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
                var j = 0
                while j + 16 <= k8 {
                    a0 = a0.addingProduct(chunk(row, j), xi.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self))
                    a1 = a1.addingProduct(chunk(row, j + 8), xi.loadUnaligned(fromByteOffset: 4 * j + 32, as: SIMD8<Float>.self))
                    j += 16
                }
                if j < k8 {
                    a0 = a0.addingProduct(chunk(row, j), xi.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self))
                    j += 8
                }
                var s = (a0 + a1).sum()
                while j < k {
                    s += scalar(row, j) * x[i * ldx + j]
                    j += 1
                }
                let out = y + i * ldy + (r - rows.lowerBound)
                out.pointee = accumulate ? out.pointee + s : s
            }
        }
    }
}
