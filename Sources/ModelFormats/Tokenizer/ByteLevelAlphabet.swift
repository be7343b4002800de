/// GPT-2's reversible map between bytes and printable characters: byte-level BPE vocabularies spell every byte
/// as one visible character (space → `Ġ` U+0120, newline → `Ċ` U+010A). Printable Latin-1 bytes (`!`…`~`,
/// `¡`…`¬`, `®`…`ÿ`) stand for themselves; the other 68 bytes take U+0100, U+0101, … in byte order.
enum ByteLevelAlphabet {
    /// The character (scalar value) that spells each byte.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte a character spells, or nil for characters outside the alphabet.
    static func byte(of scalar: UInt32) -> UInt8? {
        if scalar < 256 {
            let b = Int(scalar)
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) { return UInt8(b) }
            return nil
        }
        guard scalar < 256 + 68 else { return nil }
        return byteOfShiftedScalar[Int(scalar - 256)]
    }

    private static let byteOfShiftedScalar: [UInt8] = {
        var out = [UInt8](repeating: 0, count: 68)
        for b in 0..<256 where scalarOfByte[b] >= 256 { out[Int(scalarOfByte[b] - 256)] = UInt8(b) }
        return out
    }()

    /// A token string spelled in the alphabet, as the bytes it stands for (nil if a character is outside it).
    static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byte(of: s.value) else { return nil }
            out.append(b)
        }
        return out
    }

    /// Bytes spelled in the alphabet.
    static func spell(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { if let u = Unicode.Scalar(scalarOfByte[Int(b)]) { s.append(u) } }
        return String(s)
    }
}
