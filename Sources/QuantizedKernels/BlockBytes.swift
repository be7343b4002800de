import _Builtin_intrinsics.intel

// Compiled for AVX2 + FMA + F16C (Package.swift): call only when `CPUFeatures.hasAVX2` (the Engine checks).

/// The byte manipulations every block format shares, on 32-byte AVX2 vectors (`__m256i`), one weight per byte in
/// element order. Written with intrinsics: Swift's generic `SIMD32<UInt8>` conversions compile to byte loops.
enum BlockBytes {
    /// A q4 block's 16 bytes of nibbles as its 32 weights 0…15: low nibbles (elements 0–15), then high (16–31).
    @inline(__always)
    static func nibbles(_ p: UnsafeRawPointer) -> __m256i {
        let q = p.loadUnaligned(as: __m128i.self), m = _mm_set1_epi8(0x0F)
        return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m))
    }

    /// The 32 bits of a q5 block's `qh` as 32 bytes: 16 where bit i is set, 0 elsewhere (byte i ↔ bit i).
    @inline(__always)
    static func fifthBits(_ qh: UInt32) -> __m256i {
        // Byte i takes byte i/8 of qh (a shuffle within each 128-bit lane of the broadcast), then tests bit i%8.
        let spread = _mm256_shuffle_epi8(_mm256_set1_epi32(Int32(bitPattern: qh)),
                                         _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202,
                                                           0x0101_0101_0101_0101, 0x0000_0000_0000_0000))
        let bit = _mm256_set1_epi64x(Int64(bitPattern: 0x8040_2010_0804_0201))
        return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(16))
    }

    /// Low nibbles of each byte.
    @inline(__always)
    static func low(_ v: __m256i) -> __m256i { _mm256_and_si256(v, _mm256_set1_epi8(0x0F)) }

    /// High nibbles of each byte.
    @inline(__always)
    static func high(_ v: __m256i) -> __m256i { _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)) }

    /// `((v >> shift) & mask) << 4` for every byte (`shift` 0…7, mask 1 or 3): high bits of q5_K / q6_K weights.
    @inline(__always)
    static func highBits(_ v: __m256i, shift: Int32, mask: Int8) -> __m256i {
        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(mask)), 4)
    }

    /// `v − c` for every byte (wrapping): unsigned q to signed q − offset.
    @inline(__always)
    static func minus(_ v: __m256i, _ c: Int8) -> __m256i { _mm256_sub_epi8(v, _mm256_set1_epi8(c)) }

    @inline(__always)
    static func or(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_or_si256(a, b) }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }

    /// Bytes 8c…8c+7 of `v` (c = 0…3) as eight signed (`signed`) or unsigned integers converted to fp32.
    @inline(__always)
    static func floats(_ v: __m256i, signed: Bool) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let lo = _mm256_castsi256_si128(v), hi = unsafeBitCast(unsafeBitCast(v, to: SIMD32<UInt8>.self).highHalf, to: __m128i.self)
        @inline(__always) func eight(_ x: __m128i) -> SIMD8<Float> {
            _mm256_cvtepi32_ps(signed ? _mm256_cvtepi8_epi32(x) : _mm256_cvtepu8_epi32(x))
        }
        return (eight(lo), eight(_mm_unpackhi_epi64(lo, lo)), eight(hi), eight(_mm_unpackhi_epi64(hi, hi)))
    }
}
