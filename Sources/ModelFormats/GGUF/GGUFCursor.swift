/// Bounds-checked little-endian reads from a GGUF file's bytes; every failure names the field and offset.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var offset: Int = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    func error(_ kind: GGUFError.Kind, at position: Int? = nil, _ field: String, _ detail: String) -> GGUFError {
        GGUFError(kind, file: file, offset: position ?? offset, field: field, detail: detail)
    }

    /// Throws `truncated` unless `count` more bytes are available.
    func need(_ count: Int, _ field: @autoclosure () -> String) throws(GGUFError) {
        guard count <= remaining else {
            throw error(.truncated, field(),
                        "needs \(count) bytes but the file ends at byte \(bytes.count) (\(remaining) left)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        try need(size, field())
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return v
    }

    mutating func readFloat(_ field: @autoclosure () -> String) throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self, field()))
    }

    mutating func readDouble(_ field: @autoclosure () -> String) throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self, field()))
    }

    /// A length or count stored as uint64, checked to fit `Int`.
    mutating func readCount(_ field: @autoclosure () -> String) throws(GGUFError) -> Int {
        let start = offset
        let raw = try read(UInt64.self, field())
        guard let n = Int(exactly: raw), n >= 0 else {
            throw error(.invalidValue, at: start, field(), "count \(raw) is impossibly large")
        }
        return n
    }

    /// A GGUF string: uint64 byte length then UTF-8 bytes (not NUL-terminated). Invalid UTF-8 is repaired with U+FFFD.
    mutating func readString(_ field: @autoclosure () -> String) throws(GGUFError) -> String {
        let start = offset
        let length = try readCount(field() + " (string length)")
        guard length <= remaining else {
            throw error(.truncated, at: start, field(),
                        "string length \(length) runs past the end of the file (\(remaining) bytes left after the length)")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
        offset += length
        return String(decoding: slice, as: UTF8.self)
    }
}
