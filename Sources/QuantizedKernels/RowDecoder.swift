import _Builtin_intrinsics.intel
import ModelFormats

// Compiled for AVX2 + FMA + F16C (Package.swift): call only when `CPUFeatures.hasAVX2` (the Engine checks).

/// Decodes encoded weight rows to fp32 eight lanes at a time, giving exactly the values of the file dequantizer
/// (`GGMLType.dequantize`): the same operations in the same order (`d·q + m`, `d·s·q − dmin·m`, `d·sc·q`, with
/// separate multiplies and adds, no FMA). Used for panels of weights that a large batch multiplies through sgemm,
/// for embedding rows, and for the transposed products of a backward pass.
public enum RowDecoder {
    /// Writes rows `rows` of `w` as fp32, row `r` at `out + (r − rows.lowerBound) · ldo`.
    public static func decode(_ w: EncodedRows, rows: Range<Int>, into out: UnsafeMutablePointer<Float>, ldo: Int) {
        for r in rows {
            let y = out + (r - rows.lowerBound) * ldo
            decodeRow(w.type, w.row(r), blocks: w.blocksPerRow, columns: w.columns, into: y)
        }
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Four SIMD8 chunks of 32 weights from a vector of 32 small integers.
    @inline(__always)
    static func floats(_ q: __m256i, signed: Bool) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        BlockBytes.floats(q, signed: signed)
    }

    static func decodeRow(_ type: GGMLType, _ row: UnsafeRawPointer, blocks: Int, columns: Int,
                          into y: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            UnsafeMutableRawPointer(y).copyMemory(from: row, byteCount: columns * 4)
        case .f16:
            var i = 0
            while i + 8 <= columns {
                store(SIMD8<Float>(row.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self)), y + i)
                i += 8
            }
            while i < columns { y[i] = half(row, 2 * i); i += 1 }
        case .bf16:
            var i = 0
            while i + 8 <= columns {
                let bits = SIMD8<UInt32>(truncatingIfNeeded: row.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self))
                store(unsafeBitCast(bits &<< 16, to: SIMD8<Float>.self), y + i)
                i += 8
            }
            while i < columns {
                y[i] = Float(bitPattern: UInt32(row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                i += 1
            }
        case .q8_0:
            for b in 0..<blocks {
                let p = row + b * 34, d = SIMD8<Float>(repeating: half(p, 0))
                let f = floats(BlockBytes.load(p + 2), signed: true), o = y + 32 * b
                store(d * f.0, o); store(d * f.1, o + 8); store(d * f.2, o + 16); store(d * f.3, o + 24)
            }
        case .q4_0:
            for b in 0..<blocks {
                let p = row + b * 18, d = SIMD8<Float>(repeating: half(p, 0))
                let f = floats(BlockBytes.minus(BlockBytes.nibbles(p + 2), 8), signed: true), o = y + 32 * b
                store(d * f.0, o); store(d * f.1, o + 8); store(d * f.2, o + 16); store(d * f.3, o + 24)
            }
        case .q4_1:
            for b in 0..<blocks {
                let p = row + b * 20
                let d = SIMD8<Float>(repeating: half(p, 0)), m = SIMD8<Float>(repeating: half(p, 2))
                let f = floats(BlockBytes.nibbles(p + 4), signed: false), o = y + 32 * b
                store(d * f.0 + m, o); store(d * f.1 + m, o + 8); store(d * f.2 + m, o + 16); store(d * f.3 + m, o + 24)
            }
        case .q5_0:
            for b in 0..<blocks {
                let p = row + b * 22, d = SIMD8<Float>(repeating: half(p, 0))
                let q = BlockBytes.or(BlockBytes.nibbles(p + 6), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
                let f = floats(BlockBytes.minus(q, 16), signed: true), o = y + 32 * b
                store(d * f.0, o); store(d * f.1, o + 8); store(d * f.2, o + 16); store(d * f.3, o + 24)
            }
        case .q5_1:
            for b in 0..<blocks {
                let p = row + b * 24
                let d = SIMD8<Float>(repeating: half(p, 0)), m = SIMD8<Float>(repeating: half(p, 2))
                let q = BlockBytes.or(BlockBytes.nibbles(p + 8), BlockBytes.fifthBits(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
                let f = floats(q, signed: false), o = y + 32 * b
                store(d * f.0 + m, o); store(d * f.1 + m, o + 8); store(d * f.2 + m, o + 16); store(d * f.3 + m, o + 24)
            }
        case .q4_K, .q5_K:
            let five = type == .q5_K, size = five ? 176 : 144
            for b in 0..<blocks {
                let p = row + b * size
                let d = half(p, 0), dmin = half(p, 2)
                let scales = KQuantScales(p + 4)
                for k in 0..<4 {
                    let (lo, hi) = KQuantNibbles.subBlocks(p, k: k, fifth: five)
                    let (s1, m1) = scales[2 * k], (s2, m2) = scales[2 * k + 1]
                    let d1 = SIMD8<Float>(repeating: d * Float(s1)), min1 = SIMD8<Float>(repeating: dmin * Float(m1))
                    let d2 = SIMD8<Float>(repeating: d * Float(s2)), min2 = SIMD8<Float>(repeating: dmin * Float(m2))
                    let o = y + 256 * b + 64 * k
                    let a = floats(lo, signed: false), c = floats(hi, signed: false)
                    store(d1 * a.0 - min1, o); store(d1 * a.1 - min1, o + 8)
                    store(d1 * a.2 - min1, o + 16); store(d1 * a.3 - min1, o + 24)
                    store(d2 * c.0 - min2, o + 32); store(d2 * c.1 - min2, o + 40)
                    store(d2 * c.2 - min2, o + 48); store(d2 * c.3 - min2, o + 56)
                }
            }
        case .q6_K:
            for b in 0..<blocks {
                let p = row + b * 210
                let d = half(p, 208)
                for h in 0..<2 {
                    let groups = Q6KHalf(p, h)
                    let sc = (p + 192 + 8 * h).assumingMemoryBound(to: Int8.self)
                    for g in 0..<4 {
                        let f = floats(groups[g], signed: true)
                        let lo = SIMD8<Float>(repeating: d * Float(sc[2 * g])), hi = SIMD8<Float>(repeating: d * Float(sc[2 * g + 1]))
                        let o = y + 256 * b + 128 * h + 32 * g
                        store(lo * f.0, o); store(lo * f.1, o + 8); store(hi * f.2, o + 16); store(hi * f.3, o + 24)
                    }
                }
            }
        default:
            preconditionFailure("RowDecoder: \(type.name) has no kernel (EncodedRows.make refuses it)")
        }
    }
}

/// The eight 6-bit (scale, min) pairs of a q4_K/q5_K super-block from its 12 packed bytes: bytes 0–3 hold scales
/// 0–3 in their low 6 bits and bytes 4–7 mins 0–3; bytes 8–11 hold the low 4 bits of scales 4–7 (low nibble) and
/// mins 4–7 (high nibble), whose top 2 bits are the top bits of bytes 0–3 / 4–7.
struct KQuantScales {
    let q: UnsafePointer<UInt8>

    @inline(__always)
    init(_ p: UnsafeRawPointer) { q = p.assumingMemoryBound(to: UInt8.self) }

    @inline(__always)
    subscript(j: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 { return (q[j] & 63, q[j + 4] & 63) }
        return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

/// Sub-blocks 2k and 2k+1 of a q4_K/q5_K super-block at `p` as 32 weights each (0…15, or 0…31 with q5_K's fifth
/// bits): byte l of the 32-byte group k of `qs` holds element l of sub-block 2k (low nibble) and of 2k+1 (high);
/// for q5_K bits 2k and 2k+1 of `qh[l]` are their fifth bits.
enum KQuantNibbles {
    @inline(__always)
    static func subBlocks(_ p: UnsafeRawPointer, k: Int, fifth: Bool) -> (__m256i, __m256i) {
        let bits = BlockBytes.load(p + (fifth ? 48 : 16) + 32 * k)
        var lo = BlockBytes.low(bits), hi = BlockBytes.high(bits)
        if fifth {
            let qh = BlockBytes.load(p + 16)
            lo = BlockBytes.or(lo, BlockBytes.highBits(qh, shift: Int32(2 * k), mask: 1))
            hi = BlockBytes.or(hi, BlockBytes.highBits(qh, shift: Int32(2 * k + 1), mask: 1))
        }
        return (lo, hi)
    }
}

/// One half (128 weights) of a q6_K super-block as four groups of 32 signed 6-bit values `q − 32`, in element
/// order: group g holds elements 32g…32g+31 of the half and uses scales 2g (its first 16) and 2g+1 (the rest).
/// Element l of groups 0–3 takes its low 4 bits from lo(ql[l]), lo(ql[l+32]), hi(ql[l]), hi(ql[l+32]) and its top
/// 2 bits from bits 0–1, 2–3, 4–5, 6–7 of qh[l].
struct Q6KHalf {
    let groups: (__m256i, __m256i, __m256i, __m256i)

    @inline(__always)
    init(_ block: UnsafeRawPointer, _ h: Int) {
        let ql0 = BlockBytes.load(block + 64 * h), ql1 = BlockBytes.load(block + 64 * h + 32)
        let qh = BlockBytes.load(block + 128 + 32 * h)
        @inline(__always) func make(_ low: __m256i, _ shift: Int32) -> __m256i {
            BlockBytes.minus(BlockBytes.or(low, BlockBytes.highBits(qh, shift: shift, mask: 3)), 32)
        }
        groups = (make(BlockBytes.low(ql0), 0), make(BlockBytes.low(ql1), 2), make(BlockBytes.high(ql0), 4),
                  make(BlockBytes.high(ql1), 6))
    }

    @inline(__always)
    subscript(g: Int) -> __m256i {
        switch g {
        case 0: groups.0
        case 1: groups.1
        case 2: groups.2
        default: groups.3
        }
    }
}
