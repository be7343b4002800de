import ModelFormats
import Testing

/// Each quantization layout on hand-made blocks whose values are worked out by hand from the format.
struct DequantizeTests {
    func f16(_ x: Float) -> [UInt8] { let b = Float16(x).bitPattern; return [UInt8(b & 0xFF), UInt8(b >> 8)] }

    func run(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        #expect(bytes.count == count / type.blockSize * type.bytesPerBlock)
        var out = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { Dequantize.convert(type, from: src, into: $0) } }
        return out
    }

    @Test func floatTypes() {
        #expect(run(.f16, f16(1.5) + f16(-0.25), count: 2) == [1.5, -0.25])
        // bf16 is the top half of an f32: 0x3FC0 → 1.5, 0xC000 → -2.
        #expect(run(.bf16, [0xC0, 0x3F, 0x00, 0xC0], count: 2) == [1.5, -2])
        let f32: [UInt8] = withUnsafeBytes(of: Float(3.25)) { Array($0) }
        #expect(run(.f32, f32, count: 1) == [3.25])
    }

    @Test func q8_0() {
        let q: [Int8] = (0..<32).map { Int8($0 - 16) }
        let out = run(.q8_0, f16(0.5) + q.map { UInt8(bitPattern: $0) }, count: 32)
        #expect(out == (0..<32).map { Float($0 - 16) * 0.5 })
    }

    @Test func q4_0AndQ4_1() {
        // Byte j holds weight j in its low nibble and weight j+16 in its high nibble.
        let nibbles: [UInt8] = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let q40 = run(.q4_0, f16(2) + nibbles, count: 32)
        #expect(q40[0] == -16 && q40[15] == 14 && q40[16] == 14 && q40[31] == -16)  // 2·(q−8)
        let q41 = run(.q4_1, f16(0.5) + f16(-1) + nibbles, count: 32)
        #expect(q41[3] == 0.5 && q41[19] == 5 && q41[0] == -1 && q41[16] == 6.5)  // 0.5·q − 1
    }

    @Test func q5_0AndQ5_1() {
        let nibbles: [UInt8] = [UInt8](repeating: 0x21, count: 16)  // low nibble 1, high nibble 2
        // qh bit j = fifth bit of weight j: set for weights 0 and 17.
        let qh: UInt32 = 1 | (1 << 17)
        let qhBytes = withUnsafeBytes(of: qh.littleEndian) { Array($0) }
        let q50 = run(.q5_0, f16(1) + qhBytes + nibbles, count: 32)
        #expect(q50[0] == 1 && q50[1] == -15 && q50[16] == -14 && q50[17] == 2)  // (q − 16)
        let q51 = run(.q5_1, f16(0.25) + f16(1) + qhBytes + nibbles, count: 32)
        #expect(q51[0] == 0.25 * 17 + 1 && q51[1] == 1.25 && q51[17] == 0.25 * 18 + 1 && q51[16] == 1.5)
    }

    /// 12 packed bytes holding 6-bit scales `sc` and mins `m` of the 8 sub-blocks.
    func packScales(_ sc: [UInt8], _ m: [UInt8]) -> [UInt8] {
        var s = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            s[j] = sc[j] & 63 | (sc[j + 4] >> 4) << 6
            s[j + 4] = m[j] & 63 | (m[j + 4] >> 4) << 6
            s[j + 8] = sc[j + 4] & 15 | (m[j + 4] & 15) << 4
        }
        return s
    }

    @Test func q4_K() {
        let sc: [UInt8] = [1, 2, 3, 4, 17, 33, 50, 63], m: [UInt8] = [0, 1, 2, 3, 20, 40, 60, 5]
        // Every byte 0x93: low nibble 3 (sub-blocks 0,2,4,6), high nibble 9 (sub-blocks 1,3,5,7).
        let block = f16(0.5) + f16(0.25) + packScales(sc, m) + [UInt8](repeating: 0x93, count: 128)
        let out = run(.q4_K, block, count: 256)
        for sub in 0..<8 {
            let q: Float = sub % 2 == 0 ? 3 : 9
            let expected = 0.5 * Float(sc[sub]) * q - 0.25 * Float(m[sub])
            #expect(out[sub * 32] == expected && out[sub * 32 + 31] == expected, "sub-block \(sub)")
        }
    }

    @Test func q5_K() {
        let sc: [UInt8] = [2, 2, 2, 2, 2, 2, 2, 40], m: [UInt8] = [1, 1, 1, 1, 1, 1, 1, 33]
        var qh = [UInt8](repeating: 0, count: 32)
        qh[0] = 0b1000_0001  // fifth bit for weight 0 of sub-block 0 and of sub-block 7
        let block = f16(1) + f16(0.5) + packScales(sc, m) + qh + [UInt8](repeating: 0x74, count: 128)
        let out = run(.q5_K, block, count: 256)
        #expect(out[0] == 2 * (4 + 16) - 0.5)
        #expect(out[1] == 2 * 4 - 0.5)
        #expect(out[32] == 2 * 7 - 0.5)
        #expect(out[224] == 40 * (7 + 16) - 0.5 * 33)
        #expect(out[225] == 40 * 7 - 0.5 * 33)
    }

    @Test func q6_K() {
        // ql: low 4 bits; qh: 2 high bits per weight; 16 int8 scales; d last.
        var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
        ql[0] = 0x5A   // weight 0: low nibble 0xA; weight 64: high nibble 0x5
        qh[0] = 0b11_10_01_00  // weight 0 high bits 00, weight 32: 01, weight 64: 10, weight 96: 11
        ql[32] = 0x0F  // weight 32 low nibble 0xF
        let scales: [Int8] = (0..<16).map { Int8($0 - 8) }
        let block = ql + qh + scales.map { UInt8(bitPattern: $0) } + f16(0.5)
        let out = run(.q6_K, block, count: 256)
        #expect(out[0] == 0.5 * -8 * Float(0xA - 32))
        #expect(out[32] == 0.5 * -6 * Float(0xF + 16 - 32))
        #expect(out[64] == 0.5 * -4 * Float(0x5 + 32 - 32))
        #expect(out[96] == 0.5 * -2 * Float(0 + 48 - 32))
        #expect(out[1] == 0.5 * -8 * -32)
        #expect(out[128] == 0.5 * 0 * -32)
    }
}
