import Foundation
import Testing
import ModelFormats
import TestSupport

/// Hand-made blocks of every supported ggml type. Each test packs chosen quantized values into bytes following the
/// format's definition, then checks `GGMLType.dequantize` against the value each element should have, computed
/// element by element from that definition (plus a few literal values worked out by hand).
@Suite("Dequantization kernels")
struct DequantTests {
    /// Deterministic pseudo-random bytes (64-bit LCG), so every bit position of the packed fields gets exercised.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    static func half(_ v: Float) -> [UInt8] {
        let bits = Float16(v).bitPattern
        return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
    }

    static func run(_ type: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
        #expect(bytes.count == type.byteCount(elements: count))
        var out = [Float](repeating: .nan, count: count)
        try bytes.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try type.dequantize(src, into: $0) }
        }
        return out
    }

    static func expectClose(_ got: [Float], _ want: [Float], _ tolerance: Float = 1e-6,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, sourceLocation: sourceLocation)
        var bad = 0
        for i in 0..<min(got.count, want.count) where !(abs(got[i] - want[i]) <= tolerance * max(1, abs(want[i]))) {
            if bad < 5 { Issue.record("element \(i): got \(got[i]), want \(want[i])", sourceLocation: sourceLocation) }
            bad += 1
        }
        #expect(bad == 0, sourceLocation: sourceLocation)
    }

    @Test("f32, f16 and bf16 convert exactly")
    func scalars() throws {
        let f32: [Float] = [1, -2.5, .pi, 1e-30]
        let f32Bytes = f32.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        #expect(try Self.run(.f32, f32Bytes, count: 4) == f32)

        // f16 bit patterns: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001,
        // 0.333251953125 = 0x3555, -0.0 = 0x8000.
        let f16Bits: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0x8000]
        let f16Bytes = f16Bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let f16 = try Self.run(.f16, f16Bytes, count: 6)
        #expect(f16 == [1, -2, 65504, Float(sign: .plus, exponent: -24, significand: 1), 0.333251953125, 0])
        #expect(f16[5].sign == .minus)

        // bf16 is the top half of an f32: 0x3F80 = 1, 0xC040 = -3, 0x4049 = 3.140625, 0x7F80 = +inf.
        let bf16Bits: [UInt16] = [0x3F80, 0xC040, 0x4049, 0x7F80]
        let bf16 = try Self.run(.bf16, bf16Bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, count: 4)
        #expect(bf16 == [1, -3, 3.140625, .infinity])
    }

    @Test("q8_0: x = d·q over two blocks")
    func q8_0() throws {
        let d: [Float] = [0.5, -0.125]
        var q = Self.randomBytes(64, seed: 1).map { Int8(bitPattern: $0) }
        q[0] = -128; q[1] = 127
        var bytes: [UInt8] = []
        for b in 0..<2 { bytes += Self.half(d[b]) + q[(32 * b)..<(32 * b + 32)].map { UInt8(bitPattern: $0) } }
        let got = try Self.run(.q8_0, bytes, count: 64)
        Self.expectClose(got, (0..<64).map { d[$0 / 32] * Float(q[$0]) })
        #expect(got[0] == -64 && got[1] == 63.5)
    }

    @Test("q4_0: element j < 16 is the low nibble of byte j, j ≥ 16 the high nibble of byte j − 16; x = d·(q − 8)")
    func q4_0() throws {
        let d: [Float] = [0.25, 3]
        var qs = Self.randomBytes(32, seed: 2)
        qs[0] = 0x1F  // element 0: 15 → 1.75; element 16: 1 → −1.75
        var bytes: [UInt8] = []
        for b in 0..<2 { bytes += Self.half(d[b]) + qs[(16 * b)..<(16 * b + 16)] }
        let got = try Self.run(.q4_0, bytes, count: 64)
        let want: [Float] = (0..<64).map { i in
            let b = i / 32, j = i % 32
            let byte = qs[16 * b + j % 16]
            let q = j < 16 ? Int(byte & 15) : Int(byte >> 4)
            return d[b] * Float(q - 8)
        }
        Self.expectClose(got, want)
        #expect(got[0] == 1.75 && got[16] == -1.75)
    }

    @Test("q4_1: x = d·q + m")
    func q4_1() throws {
        let d: [Float] = [0.5, 0.0078125], m: [Float] = [-4, 1.5]
        var qs = Self.randomBytes(32, seed: 3)
        qs[0] = 0xF0  // element 0: 0 → m = −4; element 16: 15 → 7.5 − 4 = 3.5
        var bytes: [UInt8] = []
        for b in 0..<2 { bytes += Self.half(d[b]) + Self.half(m[b]) + qs[(16 * b)..<(16 * b + 16)] }
        let got = try Self.run(.q4_1, bytes, count: 64)
        let want: [Float] = (0..<64).map { i in
            let b = i / 32, j = i % 32
            let byte = qs[16 * b + j % 16]
            let q = j < 16 ? Int(byte & 15) : Int(byte >> 4)
            return d[b] * Float(q) + m[b]
        }
        Self.expectClose(got, want)
        #expect(got[0] == -4 && got[16] == 3.5)
    }

    /// q5_0 / q5_1 quant of element j of a block: 4 low bits as in q4, 5th bit = bit j of the little-endian qh.
    static func q5Value(_ qs: ArraySlice<UInt8>, _ qh: UInt32, _ j: Int) -> Int {
        let byte = qs[qs.startIndex + j % 16]
        let low = j < 16 ? Int(byte & 15) : Int(byte >> 4)
        return low | Int((qh >> UInt32(j)) & 1) << 4
    }

    static func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    @Test("q5_0: 5th bit of element j is bit j of qh; x = d·(q − 16)")
    func q5_0() throws {
        let d: [Float] = [0.5, -2]
        var qs = Self.randomBytes(32, seed: 4)
        let qh: [UInt32] = [0x8000_0001, 0x5A5A_C3C3]
        qs[0] = 0x00  // block 0: element 0 has high bit → 16 → 0; element 16: q = 0, bit 16 clear → −16 → −8
        var bytes: [UInt8] = []
        for b in 0..<2 { bytes += Self.half(d[b]) + Self.le32(qh[b]) + qs[(16 * b)..<(16 * b + 16)] }
        let got = try Self.run(.q5_0, bytes, count: 64)
        let want: [Float] = (0..<64).map { i in
            let b = i / 32
            return d[b] * Float(Self.q5Value(qs[(16 * b)..<(16 * b + 16)], qh[b], i % 32) - 16)
        }
        Self.expectClose(got, want)
        #expect(got[0] == 0 && got[16] == -8)
        // Element 31 of block 0 takes bit 31 of qh (set): (hi(qs[15]) | 16) − 16 = hi(qs[15]).
        #expect(got[31] == 0.5 * Float(qs[15] >> 4))
    }

    @Test("q5_1: x = d·q + m with the 5th bit from qh")
    func q5_1() throws {
        let d: [Float] = [0.25, 1], m: [Float] = [-3, 0.5]
        let qs = Self.randomBytes(32, seed: 5)
        let qh: [UInt32] = [0xFFFF_0000, 0x1234_5678]
        var bytes: [UInt8] = []
        for b in 0..<2 {
            bytes += Self.half(d[b]) + Self.half(m[b]) + Self.le32(qh[b]) + qs[(16 * b)..<(16 * b + 16)]
        }
        let got = try Self.run(.q5_1, bytes, count: 64)
        let want: [Float] = (0..<64).map { i in
            let b = i / 32
            return d[b] * Float(Self.q5Value(qs[(16 * b)..<(16 * b + 16)], qh[b], i % 32)) + m[b]
        }
        Self.expectClose(got, want)
        // Block 0: elements 0…15 have no 5th bit, 16…31 have it.
        #expect(got[0] == 0.25 * Float(qs[0] & 15) - 3)
        #expect(got[16] == 0.25 * Float(Int(qs[0] >> 4) + 16) - 3)
    }

    /// Packs eight 6-bit scales and mins into the 12 bytes of q4_K/q5_K: bytes 0–3 = scales 0–3 (low 6 bits) with
    /// the top 2 bits of scales 4–7; bytes 4–7 = mins 0–3 with the top 2 bits of mins 4–7; bytes 8–11 = low 4 bits
    /// of scales 4–7 (low nibble) and of mins 4–7 (high nibble).
    static func packKScales(_ sc: [UInt8], _ mn: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            out[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)
            out[j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6)
            out[j + 8] = (sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4)
        }
        return out
    }

    static let kScales: [[UInt8]] = [[1, 63, 17, 32, 48, 33, 63, 21], [5, 9, 0, 40, 62, 16, 31, 47]]
    static let kMins: [[UInt8]] = [[0, 2, 60, 33, 18, 63, 49, 7], [63, 1, 22, 0, 35, 50, 16, 61]]

    @Test("q4_K: 6-bit packed scales and mins, x = d·scale·q − dmin·min per 32-element sub-block")
    func q4K() throws {
        let d: [Float] = [0.0625, 0.5], dmin: [Float] = [0.125, 0.03125]
        let qs = Self.randomBytes(256, seed: 6)
        var bytes: [UInt8] = []
        for b in 0..<2 {
            bytes += Self.half(d[b]) + Self.half(dmin[b]) + Self.packKScales(Self.kScales[b], Self.kMins[b])
            bytes += qs[(128 * b)..<(128 * b + 128)]
        }
        let got = try Self.run(.q4_K, bytes, count: 512)
        let want: [Float] = (0..<512).map { i in
            let b = i / 256, e = i % 256
            let sub = e / 32                   // sub-block 0…7
            let byte = qs[128 * b + 32 * (e / 64) + e % 32]
            let q = (e % 64) < 32 ? Int(byte & 15) : Int(byte >> 4)
            return d[b] * Float(Self.kScales[b][sub]) * Float(q) - dmin[b] * Float(Self.kMins[b][sub])
        }
        Self.expectClose(got, want)
        // Element 255 of block 0: sub-block 7 (scale 21, min 7), high nibble of qs[127].
        #expect(got[255] == 0.0625 * 21 * Float(qs[127] >> 4) - 0.125 * 7)
    }

    @Test("q5_K: as q4_K with the 5th bit of element 64k + l (+32) in bit 2k (2k+1) of qh[l]")
    func q5K() throws {
        let d: [Float] = [0.03125, 0.25], dmin: [Float] = [0.5, 0.0625]
        let qh = Self.randomBytes(64, seed: 7)
        let qs = Self.randomBytes(256, seed: 8)
        var bytes: [UInt8] = []
        for b in 0..<2 {
            bytes += Self.half(d[b]) + Self.half(dmin[b]) + Self.packKScales(Self.kScales[b], Self.kMins[b])
            bytes += qh[(32 * b)..<(32 * b + 32)]
            bytes += qs[(128 * b)..<(128 * b + 128)]
        }
        let got = try Self.run(.q5_K, bytes, count: 512)
        let want: [Float] = (0..<512).map { i in
            let b = i / 256, e = i % 256
            let sub = e / 32, l = e % 32
            let byte = qs[128 * b + 32 * (e / 64) + l]
            let low = (e % 64) < 32 ? Int(byte & 15) : Int(byte >> 4)
            let high = Int(qh[32 * b + l] >> UInt8(sub)) & 1   // sub-block s uses bit s
            let q = low | high << 4
            return d[b] * Float(Self.kScales[b][sub]) * Float(q) - dmin[b] * Float(Self.kMins[b][sub])
        }
        Self.expectClose(got, want)
    }

    @Test("q6_K: ql, qh, int8 scales, d; element i uses scale i/16, x = d·scale·(q − 32)")
    func q6K() throws {
        let d: [Float] = [0.015625, -0.5]
        let ql = Self.randomBytes(256, seed: 9)
        let qh = Self.randomBytes(128, seed: 10)
        let scales: [[Int8]] = [[-128, 127, 1, -1, 64, -64, 3, 5, 7, 9, -11, 13, 15, -17, 19, 21],
                                [2, 4, 6, 8, 10, 12, 14, 16, -2, -4, -6, -8, -10, -12, -14, -16]]
        var bytes: [UInt8] = []
        for b in 0..<2 {
            bytes += ql[(128 * b)..<(128 * b + 128)]
            bytes += qh[(64 * b)..<(64 * b + 64)]
            bytes += scales[b].map { UInt8(bitPattern: $0) }
            bytes += Self.half(d[b])
        }
        #expect(bytes.count == 420)
        let got = try Self.run(.q6_K, bytes, count: 512)
        let want: [Float] = (0..<512).map { i in
            let b = i / 256, e = i % 256
            let h = e / 128, r = e % 128, group = r / 32, l = r % 32
            // Groups 0…3 of a 128-element half: low nibble of ql[l], low of ql[l+32], high of ql[l], high of ql[l+32].
            let qlByte = ql[128 * b + 64 * h + l + (group % 2 == 1 ? 32 : 0)]
            let low = group < 2 ? Int(qlByte & 15) : Int(qlByte >> 4)
            let high = Int(qh[64 * b + 32 * h + l] >> UInt8(2 * group)) & 3
            let q = (low | high << 4) - 32
            return d[b] * Float(scales[b][e / 16]) * Float(q)
        }
        Self.expectClose(got, want)
    }

    @Test("types without a kernel, wrong sizes and short sources give clear errors")
    func unsupported() throws {
        let bytes = [UInt8](repeating: 0, count: 512)
        var out = [Float](repeating: 0, count: 256)
        for type in [GGMLType.q2_K, .q3_K, .q8_K, .iq2_xxs, .iq4_xs, .q8_1, .tq1_0, .mxfp4] {
            #expect(!type.canDequantize)
            let e = #expect(throws: GGUFError.self) {
                try bytes.withUnsafeBytes { src in
                    try out.withUnsafeMutableBufferPointer { try type.dequantize(src, into: $0) }
                }
            }
            #expect(e?.kind == .unsupportedTensorType)
            #expect(e?.description.contains("unsupported type \(type.rawValue) (\(type.name))") == true)
        }
        let short = #expect(throws: GGUFError.self) {
            try bytes.prefix(100).withUnsafeBytes { src in
                try out.withUnsafeMutableBufferPointer { try GGMLType.q4_1.dequantize(src, into: $0) }
            }
        }
        #expect(short?.description.contains("need 160 bytes, the source has 100") == true)
        var odd = [Float](repeating: 0, count: 33)
        let partial = #expect(throws: GGUFError.self) {
            try bytes.withUnsafeBytes { src in
                try odd.withUnsafeMutableBufferPointer { try GGMLType.q8_0.dequantize(src, into: $0) }
            }
        }
        #expect(partial?.description.contains("not a multiple of the q8_0 block size 32") == true)
    }
}
