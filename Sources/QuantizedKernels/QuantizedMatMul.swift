import Dispatch
import Foundation
import ModelFormats

// Compiled for AVX2 + FMA + F16C (Package.swift): call only when `CPUFeatures.hasAVX2` (the Engine checks).

/// A q4_1 or q8_0 block's 32 weights as four SIMD8 chunks, in order: the values `RowDecoder` (and the file
/// dequantizer) gives, computed in registers.
typealias DecodedBlock = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

@inline(__always)
func decodedBlock(_ type: GGMLType, _ p: UnsafeRawPointer) -> DecodedBlock {
    if type == .q4_1 {
        let d = SIMD8<Float>(repeating: RowDecoder.half(p, 0)), m = SIMD8<Float>(repeating: RowDecoder.half(p, 2))
        let f = RowDecoder.floats(BlockBytes.nibbles(p + 4), signed: false)
        return (d * f.0 + m, d * f.1 + m, d * f.2 + m, d * f.3 + m)
    }
    let d = SIMD8<Float>(repeating: RowDecoder.half(p, 0))
    let f = RowDecoder.floats(BlockBytes.load(p + 2), signed: true)
    return (d * f.0, d * f.1, d * f.2, d * f.3)
}

/// `y[rows × n] (+)= x[rows × k] · Wᵀ` for a few rows (decode steps) with `W` q4_1 or q8_0 rows `[n × k]` and fp32
/// activations: the decode path of the fp32 weights policy, which keeps the file's q4_1/q8_0 blocks beside the fp32
/// copy. Every weight is the fp32 value of that copy, so results differ from sgemm only in the order of the sums.
///
/// The `n` output columns are split over the cores in panels of 4 weight rows; each panel is dequantized into a
/// small per-thread scratch (L1-resident) and multiplied by every row of `x`, two rows at a time with SIMD8
/// FMA accumulators, so the weights are read from memory once per call whatever the number of rows.
public enum QuantizedMatMul {
    /// Up to this many rows the quantized kernel is used. Measured against sgemm on fp32 weights too large for the
    /// caches (3072 × 576 q4_1, 60 different matrices, 2 threads): time ratio 0.5 at 1–24 rows, 0.7 at 32, 1.0 at 64.
    public static let maxRows = 32
    static let panel = 4

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// The types this kernel reads.
    public static func handles(_ type: GGMLType) -> Bool { type == .q4_1 || type == .q8_0 }

    /// - Parameter threads: the most threads to split the output columns over (the caller's core count).
    public static func projection(_ x: UnsafePointer<Float>, rows: Int, inFeatures k: Int, ldx: Int? = nil,
                                  weight w: EncodedRows, into y: UnsafeMutablePointer<Float>, ldy: Int? = nil,
                                  accumulate: Bool = false, threads: Int) {
        precondition(w.columns == k, "QuantizedMatMul: weight has \(w.columns) columns, x has \(k)")
        precondition(handles(w.type), "QuantizedMatMul: \(w.type.name) is not q4_1 or q8_0")
        let n = w.rows, ldx = ldx ?? k, ldy = ldy ?? n
        guard rows > 0, n > 0 else { return }
        let panels = (n + panel - 1) / panel
        // At least 16 panels per part, so tiny matrices don't pay for threads.
        let parts = max(1, min(threads, panels / 16))
        let xAddress = UInt(bitPattern: x), yAddress = UInt(bitPattern: y)
        run(parts) { part in
            let x = UnsafePointer<Float>(bitPattern: xAddress)!, y = UnsafeMutablePointer<Float>(bitPattern: yAddress)!
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: panel * k)
            defer { scratch.deallocate() }
            let mine = (panels * part / parts)..<(panels * (part + 1) / parts)
            for p in mine {
                let n0 = p * panel, count = min(panel, n - n0)
                for j in 0..<count { w.prefetch(after: n0 + j, before: mine.upperBound * panel) }
                if rows == 1 && count == panel {
                    singleRowPanel4(x, k: k, w: w, firstRow: n0, y: y + n0, accumulate: accumulate)
                    continue
                }
                RowDecoder.decode(w, rows: n0..<(n0 + count), into: scratch, ldo: k)
                if count == panel {
                    panel4(x, rows: rows, k: k, ldx: ldx, w: scratch, y: y + n0, ldy: ldy, accumulate: accumulate)
                } else {
                    for j in 0..<count {
                        for r in 0..<rows {
                            let s = dot(x + r * ldx, scratch + j * k, k)
                            let out = y + r * ldy + n0 + j
                            out.pointee = accumulate ? out.pointee + s : s
                        }
                    }
                }
            }
        }
    }

    /// Runs `body(i)` for `i` in `0..<parts` on as many threads (parts write disjoint memory).
    static func run(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { return body(0) }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedBox(value: escapable)
            DispatchQueue.concurrentPerform(iterations: parts) { box.value($0) }
        }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= k {
            acc = acc.addingProduct(load8(a + i), load8(b + i))
            i += 8
        }
        var s = acc.sum()
        while i < k {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }

    /// Four weight rows `w[4 × k]` (contiguous) against every row of `x`.
    @inline(__always)
    static func panel4(_ x: UnsafePointer<Float>, rows: Int, k: Int, ldx: Int, w: UnsafePointer<Float>,
                       y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        let w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k
        let k8 = k & ~7
        var r = 0
        while r + 2 <= rows {
            let xa = x + r * ldx, xb = xa + ldx
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
            var i = 0
            while i < k8 {
                let va = load8(xa + i), vb = load8(xb + i)
                let v0 = load8(w0 + i), v1 = load8(w1 + i), v2 = load8(w2 + i), v3 = load8(w3 + i)
                a0 = a0.addingProduct(va, v0); a1 = a1.addingProduct(va, v1); a2 = a2.addingProduct(va, v2); a3 = a3.addingProduct(va, v3)
                b0 = b0.addingProduct(vb, v0); b1 = b1.addingProduct(vb, v1); b2 = b2.addingProduct(vb, v2); b3 = b3.addingProduct(vb, v3)
                i += 8
            }
            var sa = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
            var sb = SIMD4<Float>(b0.sum(), b1.sum(), b2.sum(), b3.sum())
            while i < k {
                let ws = SIMD4<Float>(w0[i], w1[i], w2[i], w3[i])
                sa += xa[i] * ws
                sb += xb[i] * ws
                i += 1
            }
            store(sa, y + r * ldy, accumulate)
            store(sb, y + (r + 1) * ldy, accumulate)
            r += 2
        }
        if r < rows {
            let xa = x + r * ldx
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var i = 0
            while i < k8 {
                let va = load8(xa + i)
                a0 = a0.addingProduct(va, load8(w0 + i)); a1 = a1.addingProduct(va, load8(w1 + i)); a2 = a2.addingProduct(va, load8(w2 + i)); a3 = a3.addingProduct(va, load8(w3 + i))
                i += 8
            }
            var sa = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
            while i < k {
                sa += xa[i] * SIMD4<Float>(w0[i], w1[i], w2[i], w3[i])
                i += 1
            }
            store(sa, y + r * ldy, accumulate)
        }
    }

    /// One row of `x` against the four weight rows from `firstRow`, each block dequantized in registers
    /// (`decodedBlock`): the same weights summed into the same four SIMD8 accumulators in the same order as
    /// `panel4` on a dequantized scratch, so the bits are those of the batched path — without writing and
    /// re-reading the scratch, which is most of a decode step's time when there is one row to share each panel.
    @inline(__always)
    static func singleRowPanel4(_ x: UnsafePointer<Float>, k: Int, w: EncodedRows, firstRow: Int,
                                y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let stride = w.bytesPerRow, size = w.type.bytesPerBlock, type = w.type
        let r0 = w.row(firstRow)
        let r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        @inline(__always) func add(_ a: inout SIMD8<Float>, _ w: DecodedBlock, _ xs: DecodedBlock) {
            a = a.addingProduct(xs.0, w.0)
            a = a.addingProduct(xs.1, w.1)
            a = a.addingProduct(xs.2, w.2)
            a = a.addingProduct(xs.3, w.3)
        }
        for b in 0..<(k / 32) {
            let xb = x + b * 32, offset = b * size
            let xs = (load8(xb), load8(xb + 8), load8(xb + 16), load8(xb + 24))
            add(&a0, decodedBlock(type, r0 + offset), xs)
            add(&a1, decodedBlock(type, r1 + offset), xs)
            add(&a2, decodedBlock(type, r2 + offset), xs)
            add(&a3, decodedBlock(type, r3 + offset), xs)
        }
        store(SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum()), y, accumulate)
    }

    @inline(__always)
    static func store(_ s: SIMD4<Float>, _ out: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        let p = UnsafeMutableRawPointer(out)
        if accumulate {
            p.storeBytes(of: p.loadUnaligned(as: SIMD4<Float>.self) + s, as: SIMD4<Float>.self)
        } else {
            p.storeBytes(of: s, as: SIMD4<Float>.self)
        }
    }
}

private struct UncheckedBox<T>: @unchecked Sendable { let value: T }
