/// Kernels converting GGUF tensor data to fp32, one per supported type, following the ggml block layouts.
public enum Dequantize {
    /// Converts `source` (whole blocks of `type`) into `destination` (one value per element).
    public static func convert(_ type: GGMLType, from source: UnsafeRawBufferPointer,
                               into destination: UnsafeMutableBufferPointer<Float>) {
        guard let s = source.baseAddress, let y = destination.baseAddress else { return }
        let blocks = destination.count / type.blockSize
        switch type {
        case .f32: y.update(from: s.assumingMemoryBound(to: Float.self), count: destination.count)
        case .f16: for i in 0..<destination.count { y[i] = half(s, 2 * i) }
        case .bf16:
            for i in 0..<destination.count {
                y[i] = Float(bitPattern: UInt32(s.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        case .q8_0: for b in 0..<blocks { q8_0(s + b * 34, y + b * 32) }
        case .q4_0: for b in 0..<blocks { q4(s + b * 18, y + b * 32, hasMin: false) }
        case .q4_1: for b in 0..<blocks { q4(s + b * 20, y + b * 32, hasMin: true) }
        case .q5_0: for b in 0..<blocks { q5(s + b * 22, y + b * 32, hasMin: false) }
        case .q5_1: for b in 0..<blocks { q5(s + b * 24, y + b * 32, hasMin: true) }
        case .q4_K: for b in 0..<blocks { q4_K(s + b * 144, y + b * 256) }
        case .q5_K: for b in 0..<blocks { q5_K(s + b * 176, y + b * 256) }
        case .q6_K: for b in 0..<blocks { q6_K(s + b * 210, y + b * 256) }
        default: destination.update(repeating: .nan)
        }
    }

    /// IEEE half at byte offset `at`.
    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ at: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
    }

    /// Q8_0: f16 scale, 32 signed bytes; `x = d·q`.
    @inline(__always)
    static func q8_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(p, 0)
        let q = (p + 2).assumingMemoryBound(to: Int8.self)
        for j in 0..<32 { y[j] = d * Float(q[j]) }
    }

    /// Q4_0 (`x = d·(q − 8)`) and Q4_1 (`x = d·q + m`): weight j < 16 is the low nibble of byte j, weight j ≥ 16
    /// the high nibble of byte j − 16.
    @inline(__always)
    static func q4(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, hasMin: Bool) {
        let d = half(p, 0)
        let m: Float = hasMin ? half(p, 2) : -8 * d
        let q = (p + (hasMin ? 4 : 2)).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            y[j] = d * Float(q[j] & 0x0F) + m
            y[j + 16] = d * Float(q[j] >> 4) + m
        }
    }

    /// Q5_0 (`x = d·(q − 16)`) and Q5_1 (`x = d·q + m`): nibbles as Q4, the fifth bit of weight j is bit j of `qh`.
    @inline(__always)
    static func q5(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, hasMin: Bool) {
        let d = half(p, 0)
        let m: Float = hasMin ? half(p, 2) : -16 * d
        let headerBytes = hasMin ? 4 : 2
        let qh = p.loadUnaligned(fromByteOffset: headerBytes, as: UInt32.self).littleEndian
        let q = (p + headerBytes + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let lo = UInt32(q[j] & 0x0F) | (((qh >> UInt32(j)) & 1) << 4)
            let hi = UInt32(q[j] >> 4) | (((qh >> UInt32(j + 16)) & 1) << 4)
            y[j] = d * Float(lo) + m
            y[j + 16] = d * Float(hi) + m
        }
    }

    /// The 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes of a Q4_K/Q5_K super-block.
    @inline(__always)
    static func scaleMin(_ j: Int, _ s: UnsafePointer<UInt8>) -> (Float, Float) {
        if j < 4 { return (Float(s[j] & 63), Float(s[j + 4] & 63)) }
        let sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4)
        let m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4)
        return (Float(sc), Float(m))
    }

    /// Q4_K: f16 d, f16 dmin, 12 bytes of scales/mins, 128 bytes of nibbles; 8 sub-blocks of 32,
    /// `x = d·sc·q − dmin·m`. Each 32 bytes hold two sub-blocks: low nibbles first, then high nibbles.
    @inline(__always)
    static func q4_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(p, 0), dmin = half(p, 2)
        let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
        let q = (p + 16).assumingMemoryBound(to: UInt8.self)
        for pair in 0..<4 {
            let (sc1, m1) = scaleMin(2 * pair, scales), (sc2, m2) = scaleMin(2 * pair + 1, scales)
            let qs = q + 32 * pair, out = y + 64 * pair
            for l in 0..<32 {
                out[l] = d * sc1 * Float(qs[l] & 0x0F) - dmin * m1
                out[l + 32] = d * sc2 * Float(qs[l] >> 4) - dmin * m2
            }
        }
    }

    /// Q5_K: as Q4_K plus 32 bytes `qh` holding the fifth bits (bit 2i of qh[l] for sub-block 2i's weight l,
    /// bit 2i+1 for sub-block 2i+1's).
    @inline(__always)
    static func q5_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(p, 0), dmin = half(p, 2)
        let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (p + 16).assumingMemoryBound(to: UInt8.self)
        let q = (p + 48).assumingMemoryBound(to: UInt8.self)
        for pair in 0..<4 {
            let (sc1, m1) = scaleMin(2 * pair, scales), (sc2, m2) = scaleMin(2 * pair + 1, scales)
            let qs = q + 32 * pair, out = y + 64 * pair
            let bit1 = UInt8(1) << UInt8(2 * pair), bit2 = UInt8(2) << UInt8(2 * pair)
            for l in 0..<32 {
                let lo = Float((qs[l] & 0x0F) + (qh[l] & bit1 != 0 ? 16 : 0))
                let hi = Float((qs[l] >> 4) + (qh[l] & bit2 != 0 ? 16 : 0))
                out[l] = d * sc1 * lo - dmin * m1
                out[l + 32] = d * sc2 * hi - dmin * m2
            }
        }
    }

    /// Q6_K: 128 bytes low nibbles `ql`, 64 bytes two-bit highs `qh`, 16 signed 8-bit scales, f16 d;
    /// 16 sub-blocks of 16, `x = d·scale·(q − 32)`.
    @inline(__always)
    static func q6_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let ql0 = p.assumingMemoryBound(to: UInt8.self)
        let qh0 = (p + 128).assumingMemoryBound(to: UInt8.self)
        let sc0 = (p + 192).assumingMemoryBound(to: Int8.self)
        let d = half(p, 208)
        for half128 in 0..<2 {
            let ql = ql0 + 64 * half128, qh = qh0 + 32 * half128, sc = sc0 + 8 * half128, out = y + 128 * half128
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int(ql[l] & 0x0F | ((qh[l] >> 0) & 3) << 4) - 32
                let q2 = Int(ql[l + 32] & 0x0F | ((qh[l] >> 2) & 3) << 4) - 32
                let q3 = Int(ql[l] >> 4 | ((qh[l] >> 4) & 3) << 4) - 32
                let q4 = Int(ql[l + 32] >> 4 | ((qh[l] >> 6) & 3) << 4) - 32
                out[l] = d * Float(sc[s]) * Float(q1)
                out[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                out[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                out[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
        }
    }
}
