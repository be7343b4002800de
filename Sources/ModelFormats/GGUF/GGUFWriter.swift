import Foundation

/// Builds a GGUF version 3 file: metadata of every value type in insertion order, and tensors given as fp32 values
/// (stored as f32, f16 or bf16) or as raw blocks of any type (e.g. copied from another GGUF). The file is written
/// to a temporary name in the destination directory and renamed into place, so readers never see a partial file.
public struct GGUFWriter: Sendable {
    /// One tensor waiting to be written: its bytes, held or borrowed.
    struct PendingTensor: @unchecked Sendable {
        let name: String
        let shape: [Int]
        let type: GGMLType
        let data: [UInt8]
        /// Bytes the caller keeps alive until `write(to:)` returns (large fp32 tensors, written without a copy).
        let borrowed: UnsafeRawBufferPointer?

        init(name: String, shape: [Int], type: GGMLType, data: [UInt8] = [], borrowed: UnsafeRawBufferPointer? = nil) {
            self.name = name
            self.shape = shape
            self.type = type
            self.data = data
            self.borrowed = borrowed
        }

        var byteCount: Int { borrowed?.count ?? data.count }
    }

    /// Alignment of the tensor data; written as `general.alignment` when it is not the default 32.
    public let alignment: Int
    /// Metadata in the order it will be written.
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    private var tensors: [PendingTensor] = []

    /// ggml's GGML_MAX_NAME (64) minus its terminating NUL.
    public static let maxTensorNameBytes = 63

    public init(alignment: Int = GGUFFile.defaultAlignment) {
        self.alignment = alignment
    }

    private static func failure(_ kind: GGUFError.Kind, _ file: String, _ field: String, _ detail: String) -> GGUFError {
        GGUFError(kind, file: file, offset: nil, field: field, detail: detail)
    }

    /// Sets a metadata value; a key set twice keeps its first position and its last value.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Names of the tensors added so far, in file order.
    public var tensorNames: [String] { tensors.map(\.name) }

    /// Adds a tensor from fp32 values in ggml order (`shape[0]` fastest), stored as `.f32`, `.f16` or `.bf16`
    /// (rounded to nearest even; values beyond the f16 range become ±infinity).
    public mutating func addTensor(name: String, shape: [Int], values: [Float], type: GGMLType = .f32) throws {
        let data: [UInt8]
        switch type {
        case .f32:
            data = values.withUnsafeBytes { Array($0) }   // little-endian hosts (x86_64, arm64)
        case .f16:
            data = [UInt8](unsafeUninitializedCapacity: values.count * 2) { buffer, count in
                for (i, v) in values.enumerated() {
                    let bits = Float16(v).bitPattern
                    buffer[2 * i] = UInt8(bits & 0xFF)
                    buffer[2 * i + 1] = UInt8(bits >> 8)
                }
                count = values.count * 2
            }
        case .bf16:
            data = [UInt8](unsafeUninitializedCapacity: values.count * 2) { buffer, count in
                for (i, v) in values.enumerated() {
                    let bits = GGUFWriter.bf16Bits(v)
                    buffer[2 * i] = UInt8(bits & 0xFF)
                    buffer[2 * i + 1] = UInt8(bits >> 8)
                }
                count = values.count * 2
            }
        default:
            throw Self.failure(.unsupportedTensorType, "<writer>", "tensor \"\(name)\"",
                               "can only store fp32 values as f32, f16 or bf16, not \(type.name); use addRawTensor")
        }
        try check(name: name, shape: shape, type: type, elements: values.count, bytes: data.count)
        tensors.append(PendingTensor(name: name, shape: shape, type: type, data: data))
    }

    /// Adds an f32 tensor from `values`, which are not copied: they must stay valid and unchanged until
    /// `write(to:)` returns. For tensors too large to copy (a 13B model's trainable blocks and optimizer state).
    public mutating func addTensor(name: String, shape: [Int], borrowing values: UnsafeBufferPointer<Float>) throws {
        try check(name: name, shape: shape, type: .f32, elements: values.count, bytes: values.count * 4)
        tensors.append(PendingTensor(name: name, shape: shape, type: .f32, borrowed: UnsafeRawBufferPointer(values)))
    }

    /// Adds a tensor from its raw stored bytes (e.g. `GGUFFile.bytes(of:)` of a quantized tensor).
    public mutating func addRawTensor(name: String, shape: [Int], type: GGMLType, bytes: UnsafeRawBufferPointer) throws {
        let elements = shape.reduce(1, *)
        try check(name: name, shape: shape, type: type, elements: elements, bytes: bytes.count)
        tensors.append(PendingTensor(name: name, shape: shape, type: type, data: Array(bytes)))
    }

    /// bf16 with round-to-nearest-even (NaN stays NaN).
    static func bf16Bits(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    private func check(name: String, shape: [Int], type: GGMLType, elements: Int, bytes: Int) throws(GGUFError) {
        let field = "tensor \"\(name)\""
        guard !name.isEmpty, name.utf8.count <= Self.maxTensorNameBytes else {
            throw Self.failure(.invalidValue, "<writer>", field,
                               "tensor names must be 1…\(Self.maxTensorNameBytes) bytes, this one is \(name.utf8.count)")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw Self.failure(.duplicate, "<writer>", field, "a tensor with this name was already added")
        }
        guard (1...GGUFFile.maxDimensions).contains(shape.count), shape.allSatisfy({ $0 >= 0 }) else {
            throw Self.failure(.invalidValue, "<writer>", field,
                               "expected 1…\(GGUFFile.maxDimensions) non-negative dimensions, found \(shape)")
        }
        guard shape[0] % type.blockSize == 0 else {
            throw Self.failure(.invalidValue, "<writer>", field,
                               "innermost dimension \(shape[0]) is not a multiple of the \(type.name) block size \(type.blockSize)")
        }
        let count = shape.reduce(1, *)
        guard count == elements, bytes == type.byteCount(elements: count) else {
            throw Self.failure(.sizeMismatch, "<writer>", field,
                               "shape \(shape) holds \(count) elements (\(type.byteCount(elements: count)) bytes of "
                                   + "\(type.name)), given \(elements) elements in \(bytes) bytes")
        }
    }

    // MARK: - Encoding

    private struct Encoder {
        var data = Data()
        mutating func int<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        mutating func string(_ s: String) {
            int(UInt64(s.utf8.count))
            data.append(contentsOf: Array(s.utf8))
        }
    }

    /// Encodes a value without its type id; arrays must be homogeneous (checked).
    private static func encode(_ value: GGUFValue, into e: inout Encoder, file: String, field: String) throws(GGUFError) {
        switch value {
        case .uint8(let v): e.int(v)
        case .int8(let v): e.int(v)
        case .uint16(let v): e.int(v)
        case .int16(let v): e.int(v)
        case .uint32(let v): e.int(v)
        case .int32(let v): e.int(v)
        case .float32(let v): e.int(v.bitPattern)
        case .bool(let v): e.int(UInt8(v ? 1 : 0))
        case .string(let v): e.string(v)
        case .uint64(let v): e.int(v)
        case .int64(let v): e.int(v)
        case .float64(let v): e.int(v.bitPattern)
        case .array(let items):
            let elementType = items.first?.typeID ?? 0   // an empty array is written as uint8[0]
            if let i = items.firstIndex(where: { $0.typeID != elementType }) {
                throw failure(.invalidValue, file, field + "[\(i)]",
                              "GGUF arrays hold one type: element 0 is \(GGUFValue.typeName(elementType)), element \(i) "
                                  + "is \(GGUFValue.typeName(items[i].typeID))")
            }
            e.int(elementType)
            e.int(UInt64(items.count))
            for (i, item) in items.enumerated() {
                try encode(item, into: &e, file: file, field: field + "[\(i)]")
            }
        }
    }

    /// Writes the file atomically (temporary file in the same directory, then rename over `url`).
    public func write(to url: URL) throws {
        let file = url.path
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw Self.failure(.invalidValue, file, "alignment", "expected a positive power of two, found \(alignment)")
        }
        var entries = metadata
        if let i = entries.firstIndex(where: { $0.key == "general.alignment" }) {
            guard entries[i].value.int == alignment else {
                throw Self.failure(.invalidValue, file, "metadata \"general.alignment\"",
                                   "is \(entries[i].value) but the writer aligns to \(alignment)")
            }
        } else if alignment != GGUFFile.defaultAlignment {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }

        // Header, metadata and tensor directory.
        var e = Encoder()
        e.data.append(contentsOf: Array("GGUF".utf8))
        e.int(UInt32(3))
        e.int(UInt64(tensors.count))
        e.int(UInt64(entries.count))
        for (key, value) in entries {
            e.string(key)
            e.int(value.typeID)
            try Self.encode(value, into: &e, file: file, field: "metadata \"\(key)\"")
        }
        var offsets: [Int] = []
        var next = 0
        for t in tensors {
            offsets.append(next)
            e.string(t.name)
            e.int(UInt32(t.shape.count))
            for d in t.shape { e.int(UInt64(d)) }
            e.int(t.type.rawValue)
            e.int(UInt64(next))
            next = (next + t.byteCount + alignment - 1) / alignment * alignment
        }
        let padding = (alignment - e.data.count % alignment) % alignment
        e.data.append(contentsOf: [UInt8](repeating: 0, count: padding))

        do {
            try AtomicFile.write(to: url) { handle in
                try handle.write(contentsOf: e.data)
                for (i, t) in tensors.enumerated() {
                    if let borrowed = t.borrowed {
                        // In pieces of 64 MiB: one `write` of many gigabytes is not something to count on.
                        var start = 0
                        while start < borrowed.count {
                            let end = min(borrowed.count, start + (64 << 20))
                            try handle.write(contentsOf: UnsafeRawBufferPointer(rebasing: borrowed[start..<end]))
                            start = end
                        }
                    } else {
                        try handle.write(contentsOf: t.data)
                    }
                    let end = offsets[i] + t.byteCount
                    let pad = (alignment - end % alignment) % alignment
                    if pad > 0, i + 1 < tensors.count {
                        try handle.write(contentsOf: [UInt8](repeating: 0, count: pad))
                    }
                }
            }
        } catch let failure as AtomicFile.Failure {
            throw Self.failure(.writeFailed, file, "file", failure.reason)
        } catch {
            throw Self.failure(.writeFailed, file, "file", "\(error)")
        }
    }
}
