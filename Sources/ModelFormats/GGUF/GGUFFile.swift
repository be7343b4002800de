import Foundation

/// A GGUF model file, memory-mapped: metadata, tensor infos, and the raw bytes of each tensor.
///
/// Every read is bounds-checked, so a truncated or corrupted file gives a `GGUFError` naming the offset and the
/// field, never a crash. Immutable after `init`; the mapping lives as long as the object.
public final class GGUFFile: @unchecked Sendable {
    public let url: URL
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Byte offset of the data section.
    public let dataOffset: Int
    public let fileSize: Int

    private let base: UnsafeRawPointer
    private let mappedLength: Int
    private let tensorIndex: [String: Int]

    public init(contentsOf url: URL) throws {
        self.url = url
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw GGUFError(file: path, offset: nil, field: "file", "cannot open: \(reason)")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(file: path, offset: nil, field: "file", "not a regular file")
        }
        let size = Int(st.st_size)
        guard size >= 4 else {
            throw GGUFError(file: path, offset: 0, field: "magic", "file is \(size) bytes, too short for a GGUF header")
        }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw GGUFError(file: path, offset: nil, field: "file", "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(map)
        mappedLength = size
        fileSize = size
        do {
            var reader = GGUFCursor(base: base, length: size, file: path)
            let magic = try reader.bytes(4, field: "magic")
            guard Array(magic) == Array("GGUF".utf8) else {
                let shown = magic.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
                throw GGUFError(file: path, offset: 0, field: "magic", "expected \"GGUF\", found \"\(shown)\" (not a GGUF file)")
            }
            let version = try reader.u32("version")
            guard version == 2 || version == 3 else {
                throw GGUFError(file: path, offset: 4, field: "version", "expected 2 or 3, found \(version)")
            }
            self.version = version
            let tensorCount = try reader.count("tensor_count")
            let kvCount = try reader.count("metadata_kv_count")
            var metadata = [String: GGUFValue](), keys = [String]()
            for i in 0..<kvCount {
                let key = try reader.string("metadata[\(i)].key")
                let type = try reader.u32("metadata[\(key)].type")
                let value = try reader.value(type: type, field: "metadata[\(key)]", depth: 0)
                metadata[key] = value
                keys.append(key)
            }
            self.metadata = metadata
            metadataKeys = keys
            var alignment = 32
            if let a = metadata["general.alignment"] {
                guard let v = a.int, v > 0, v & (v - 1) == 0 else {
                    throw GGUFError(file: path, offset: nil, field: "metadata[general.alignment]",
                                    "expected a power of two, found \(a.summary)")
                }
                alignment = v
            }
            self.alignment = alignment
            var infos = [GGUFTensorInfo]()
            for i in 0..<tensorCount {
                let name = try reader.string("tensors[\(i)].name")
                let nDims = try reader.u32("tensors[\(name)].n_dims")
                guard nDims >= 1 && nDims <= 4 else {
                    throw GGUFError(file: path, offset: reader.offset - 4, field: "tensors[\(name)].n_dims",
                                    "expected 1 to 4, found \(nDims)")
                }
                var shape = [Int]()
                var elements = 1
                for k in 0..<Int(nDims) {
                    let dimOffset = reader.offset
                    let dim = try reader.u64("tensors[\(name)].ne[\(k)]")
                    let (product, overflow) = elements.multipliedReportingOverflow(by: Int(clamping: dim))
                    guard dim > 0 && dim < (1 << 40) && !overflow && product < (1 << 42) else {
                        throw GGUFError(file: path, offset: dimOffset, field: "tensors[\(name)].ne[\(k)]",
                                        "implausible dimension \(dim)")
                    }
                    elements = product
                    shape.append(Int(dim))
                }
                let typeID = try reader.u32("tensors[\(name)].type")
                let offsetField = reader.offset
                let offset = try reader.u64("tensors[\(name)].offset")
                guard offset % UInt64(alignment) == 0 else {
                    throw GGUFError(file: path, offset: offsetField, field: "tensors[\(name)].offset",
                                    "\(offset) is not a multiple of the alignment \(alignment)")
                }
                let type = GGMLType(rawValue: typeID)
                if let type, shape[0] % type.blockSize != 0 {
                    throw GGUFError(file: path, offset: offsetField, field: "tensors[\(name)]",
                                    "row length \(shape[0]) is not a multiple of the \(type.name) block size \(type.blockSize)")
                }
                infos.append(GGUFTensorInfo(name: name, shape: shape, type: type, typeID: typeID,
                                            offset: Int(clamping: offset)))
            }
            let dataOffset = (reader.offset + alignment - 1) / alignment * alignment
            self.dataOffset = dataOffset
            for t in infos where t.type != nil {
                let end = dataOffset + t.offset + t.byteCount
                guard end <= size else {
                    throw GGUFError(file: path, offset: dataOffset + t.offset, field: "tensors[\(t.name)].data",
                                    "\(t.byteCount) bytes of \(t.typeName) data run past the end of the file (\(size) bytes): the file is truncated")
                }
            }
            tensors = infos
            tensorIndex = Dictionary(infos.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
            throw error
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), mappedLength) }

    public func tensor(named name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The raw bytes of a tensor (valid while this object lives).
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + dataOffset + tensor.offset, count: tensor.byteCount)
    }

    /// A tensor converted to fp32, row-major with `shape[0]` contiguous.
    public func dequantize(_ name: String) throws -> [Float] {
        guard let info = tensor(named: name) else {
            throw GGUFError(file: url.path, offset: nil, field: "tensors[\(name)]", "no tensor of that name")
        }
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, count in
            try dequantize(info, into: buffer)
            count = info.elementCount
        }
    }

    /// Converts a tensor to fp32 into `destination`, which must hold exactly its elements.
    public func dequantize(_ tensor: GGUFTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard let type = tensor.type, type.canDequantize else {
            throw GGUFError(file: url.path, offset: dataOffset + tensor.offset, field: "tensors[\(tensor.name)]",
                            "unsupported type \(tensor.typeID) (\(tensor.typeName)): reptune converts F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K")
        }
        guard destination.count == tensor.elementCount else {
            throw GGUFError(file: url.path, offset: nil, field: "tensors[\(tensor.name)]",
                            "destination holds \(destination.count) values, the tensor \(tensor.elementCount)")
        }
        Dequantize.convert(type, from: bytes(of: tensor), into: destination)
    }
}

/// A bounds-checked little-endian reader over the mapped file.
struct GGUFCursor {
    let base: UnsafeRawPointer
    let length: Int
    let file: String
    var offset = 0

    mutating func need(_ n: Int, _ field: String) throws {
        guard n >= 0, offset <= length - n else {
            throw GGUFError(file: file, offset: offset, field: field,
                            "needs \(n) bytes but the file ends at byte \(length): the file is truncated")
        }
    }

    mutating func bytes(_ n: Int, field: String) throws -> UnsafeRawBufferPointer {
        try need(n, field)
        defer { offset += n }
        return UnsafeRawBufferPointer(start: base + offset, count: n)
    }

    mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ field: String) throws -> T {
        try need(MemoryLayout<T>.size, field)
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    mutating func u32(_ field: String) throws -> UInt32 { try load(UInt32.self, field) }
    mutating func u64(_ field: String) throws -> UInt64 { try load(UInt64.self, field) }

    /// A count of items that each take at least one byte, so it cannot exceed the file's size.
    mutating func count(_ field: String) throws -> Int {
        let at = offset
        let n = try u64(field)
        guard n <= UInt64(length) else {
            throw GGUFError(file: file, offset: at, field: field,
                            "count \(n) is impossible in a file of \(length) bytes (corrupt header)")
        }
        return Int(n)
    }

    mutating func string(_ field: String) throws -> String {
        let at = offset
        let n = try u64(field + ".length")
        guard n <= UInt64(length - offset) else {
            throw GGUFError(file: file, offset: at, field: field,
                            "string length \(n) runs past the end of the file (\(length) bytes)")
        }
        let raw = try bytes(Int(n), field: field)
        return String(decoding: raw, as: UTF8.self)
    }

    mutating func value(type: UInt32, field: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try load(UInt8.self, field))
        case 1: return .int8(try load(Int8.self, field))
        case 2: return .uint16(try load(UInt16.self, field))
        case 3: return .int16(try load(Int16.self, field))
        case 4: return .uint32(try load(UInt32.self, field))
        case 5: return .int32(try load(Int32.self, field))
        case 6: return .float32(Float(bitPattern: try load(UInt32.self, field)))
        case 7:
            let at = offset
            let b = try load(UInt8.self, field)
            guard b <= 1 else { throw GGUFError(file: file, offset: at, field: field, "expected a bool (0 or 1), found \(b)") }
            return .bool(b == 1)
        case 8: return .string(try string(field))
        case 9:
            guard depth < 8 else { throw GGUFError(file: file, offset: offset, field: field, "arrays nested too deep") }
            let elementType = try u32(field + ".element_type")
            let n = try count(field + ".count")
            var values = [GGUFValue]()
            values.reserveCapacity(min(n, 1 << 16))
            for i in 0..<n { values.append(try value(type: elementType, field: "\(field)[\(i)]", depth: depth + 1)) }
            return .array(values)
        case 10: return .uint64(try load(UInt64.self, field))
        case 11: return .int64(try load(Int64.self, field))
        case 12: return .float64(Double(bitPattern: try load(UInt64.self, field)))
        default:
            throw GGUFError(file: file, offset: offset - 4, field: field, "unknown metadata value type \(type) (expected 0 to 12)")
        }
    }
}
