/// Kernels converting ggml block formats to fp32. Each works on whole blocks laid out back to back:
/// `source` holds `destination.count / blockSize` blocks. Callers check sizes (see `GGUFFile.dequantize`).
///
/// Layouts (per block, little-endian, f16 = IEEE half):
/// - q8_0  (32): f16 d, int8 q[32];                        x = d·q
/// - q4_0  (32): f16 d, u8 qs[16];                          x[j] = d·(lo(qs[j]) − 8), x[j+16] = d·(hi(qs[j]) − 8)
/// - q4_1  (32): f16 d, f16 m, u8 qs[16];                   x[j] = d·lo(qs[j]) + m,  x[j+16] = d·hi(qs[j]) + m
/// - q5_0  (32): f16 d, u32 qh, u8 qs[16];                  5th bit of x[i] is bit i of qh; x = d·(q − 16)
/// - q5_1  (32): f16 d, f16 m, u32 qh, u8 qs[16];           as q5_0 with x = d·q + m
/// - q4_K (256): f16 d, f16 dmin, u8 scales[12], u8 qs[128]; 8 sub-blocks of 32 with 6-bit scale s and min m;
///               x = d·s·q − dmin·m; each 32 bytes of qs hold sub-blocks 2k (low nibbles) and 2k+1 (high nibbles)
/// - q5_K (256): as q4_K with u8 qh[32] before qs: bit 2k / 2k+1 of qh[l] is the 5th bit of x[64k+l] / x[64k+32+l]
/// - q6_K (256): u8 ql[128], u8 qh[64], int8 scales[16], f16 d; x = d·scale·(q − 32) (see `q6K`)
enum GGMLDequantizer {
    static func dequantize(type: GGMLType, from source: UnsafeRawBufferPointer,
                           into destination: UnsafeMutableBufferPointer<Float>) {
        guard let src = source.baseAddress, let dst = destination.baseAddress, destination.count > 0 else { return }
        let blocks = destination.count / type.blockSize
        precondition(source.count >= blocks * type.bytesPerBlock, "dequantize: source too small")
        switch type {
        case .f32: f32(src, dst, destination.count)
        case .f16: f16(src, dst, destination.count)
        case .bf16: bf16(src, dst, destination.count)
        case .q8_0: q8_0(src, dst, blocks)
        case .q4_0: q4_0(src, dst, blocks)
        case .q4_1: q4_1(src, dst, blocks)
        case .q5_0: q5_0(src, dst, blocks)
        case .q5_1: q5_1(src, dst, blocks)
        case .q4_K: qK(src, dst, blocks, fifthBits: false)
        case .q5_K: qK(src, dst, blocks, fifthBits: true)
        case .q6_K: q6K(src, dst, blocks)
        default: preconditionFailure("dequantize: \(type.name) is not supported (callers check canDequantize)")
        }
    }

    // MARK: - Scalars

    @inline(__always) static func half(_ p: UnsafeRawPointer, _ byteOffset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self))))
    }

    static func f32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
    }

    static func f16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { dst[i] = half(src, 2 * i) }
    }

    static func bf16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count {
            let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            dst[i] = Float(bitPattern: UInt32(bits) << 16)
        }
    }

    // MARK: - 32-element blocks

    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 34
            let d = half(block, 0)
            let q = (block + 2).assumingMemoryBound(to: Int8.self)
            let y = dst + b * 32
            for j in 0..<32 { y[j] = d * Float(q[j]) }
        }
    }

    static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 18
            let d = half(block, 0)
            let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                y[j] = d * Float(Int32(qs[j] & 0x0F) - 8)
                y[j + 16] = d * Float(Int32(qs[j] >> 4) - 8)
            }
        }
    }

    static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 20
            let d = half(block, 0)
            let m = half(block, 2)
            let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                y[j] = d * Float(qs[j] & 0x0F) + m
                y[j + 16] = d * Float(qs[j] >> 4) + m
            }
        }
    }

    static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 22
            let d = half(block, 0)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                let h0 = Int32((qh >> UInt32(j)) & 1) << 4
                let h1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = d * Float((Int32(qs[j] & 0x0F) | h0) - 16)
                y[j + 16] = d * Float((Int32(qs[j] >> 4) | h1) - 16)
            }
        }
    }

    static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 24
            let d = half(block, 0)
            let m = half(block, 2)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                let h0 = UInt32((qh >> UInt32(j)) & 1) << 4
                let h1 = UInt32((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = d * Float(UInt32(qs[j] & 0x0F) | h0) + m
                y[j + 16] = d * Float(UInt32(qs[j] >> 4) | h1) + m
            }
        }
    }

    // MARK: - 256-element super-blocks

    /// The 6-bit scale and min of sub-block `j` (0…7) from the 12 packed bytes of q4_K/q5_K:
    /// bytes 0–3 hold scales 0–3 in their low 6 bits, bytes 4–7 mins 0–3; bytes 8–11 hold the low 4 bits of
    /// scales 4–7 (low nibble) and mins 4–7 (high nibble), whose top 2 bits are the top bits of bytes 0–3 / 4–7.
    @inline(__always)
    static func kScaleMin(_ q: UnsafePointer<UInt8>, _ j: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (q[j] & 63, q[j + 4] & 63)
        }
        return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }

    /// q4_K (144-byte blocks) and q5_K (176 bytes: 32 bytes `qh` of fifth bits after the scales): 8 sub-blocks of
    /// 32 with 6-bit scale and min each; byte l of 32-byte group k holds element l of sub-block 2k (low nibble) and of
    /// 2k+1 (high nibble); for q5_K bits 2k and 2k+1 of qh[l] are their fifth bits.
    static func qK(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, fifthBits: Bool) {
        let blockBytes = fifthBits ? 176 : 144
        for b in 0..<blocks {
            let block = src + b * blockBytes
            let d = half(block, 0)
            let dmin = half(block, 2)
            let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
            let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
            let qs = (block + (fifthBits ? 48 : 16)).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 256
            for k in 0..<4 {
                let (s1, m1) = kScaleMin(scales, 2 * k)
                let (s2, m2) = kScaleMin(scales, 2 * k + 1)
                let d1 = d * Float(s1), min1 = dmin * Float(m1)
                let d2 = d * Float(s2), min2 = dmin * Float(m2)
                let q = qs + 32 * k
                let out = y + 64 * k
                let lowBit = UInt8(2 * k), highBit = UInt8(2 * k + 1)
                for l in 0..<32 {
                    let h1: UInt8 = fifthBits ? ((qh[l] >> lowBit) & 1) << 4 : 0
                    let h2: UInt8 = fifthBits ? ((qh[l] >> highBit) & 1) << 4 : 0
                    out[l] = d1 * Float((q[l] & 0x0F) | h1) - min1
                    out[l + 32] = d2 * Float((q[l] >> 4) | h2) - min2
                }
            }
        }
    }

    /// q6_K: two halves of 128 elements; half h uses ql[64h..<64h+64], qh[32h..<32h+32], scales[8h..<8h+8].
    /// For l in 0..<32 the four elements l, l+32, l+64, l+96 of the half take their low 4 bits from
    /// lo(ql[l]), lo(ql[l+32]), hi(ql[l]), hi(ql[l+32]) and their high 2 bits from bits 0–1, 2–3, 4–5, 6–7 of qh[l];
    /// element i of the half uses scale i / 16.
    static func q6K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 210
            let d = half(block, 208)
            let y = dst + b * 256
            for h in 0..<2 {
                let ql = (block + 64 * h).assumingMemoryBound(to: UInt8.self)
                let qh = (block + 128 + 32 * h).assumingMemoryBound(to: UInt8.self)
                let sc = (block + 192 + 8 * h).assumingMemoryBound(to: Int8.self)
                let out = y + 128 * h
                for l in 0..<32 {
                    let s = l / 16
                    let q1 = Int32((ql[l] & 0x0F) | ((qh[l] & 0x03) << 4)) - 32
                    let q2 = Int32((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 0x03) << 4)) - 32
                    let q3 = Int32((ql[l] >> 4) | (((qh[l] >> 4) & 0x03) << 4)) - 32
                    let q4 = Int32((ql[l + 32] >> 4) | (((qh[l] >> 6) & 0x03) << 4)) - 32
                    out[l] = d * Float(sc[s]) * Float(q1)
                    out[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                    out[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                    out[l + 96] = d * Float(sc[s + 6]) * Float(q4)
                }
            }
        }
    }
}

extension GGMLType {
    /// Number of bytes `count` elements of this type occupy (`count` must be a multiple of `blockSize`).
    public func byteCount(elements count: Int) -> Int { count / blockSize * bytesPerBlock }

    /// Converts raw blocks of this type to fp32: `destination.count` elements (a multiple of `blockSize`) from
    /// the first `byteCount(elements: destination.count)` bytes of `source`.
    /// Throws a `GGUFError` (file "<memory>") for a type that cannot be dequantized or mismatched sizes.
    public func dequantize(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let memory = "<memory>"
        guard canDequantize else {
            throw GGUFError(.unsupportedTensorType, file: memory, offset: nil, field: "dequantize",
                            detail: "unsupported type \(rawValue) (\(name)): cannot dequantize it to fp32")
        }
        guard destination.count % blockSize == 0 else {
            throw GGUFError(.sizeMismatch, file: memory, offset: nil, field: "dequantize",
                            detail: "\(destination.count) elements is not a multiple of the \(name) block size \(blockSize)")
        }
        let needed = byteCount(elements: destination.count)
        guard source.count >= needed else {
            throw GGUFError(.sizeMismatch, file: memory, offset: nil, field: "dequantize",
                            detail: "\(destination.count) \(name) elements need \(needed) bytes, the source has \(source.count)")
        }
        GGMLDequantizer.dequantize(type: self, from: source, into: destination)
    }
}
