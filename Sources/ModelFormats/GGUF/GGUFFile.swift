import Foundation

/// A GGUF model file (version 2 or 3) opened read-only over a memory map: header, metadata, tensor directory,
/// and zero-copy access to each tensor's bytes.
///
/// Every field is bounds-checked while opening, so a truncated or corrupted file fails with a `GGUFError` naming
/// the file, the byte offset and the field — never a crash or a huge allocation. Immutable after `init`;
/// the map is released when the object is.
///
/// Tensor types: a tensor whose type id ggml does not define at all makes `init` fail (its byte size cannot be
/// known, so the rest of the file cannot be validated); a known type that this library cannot convert
/// (`GGMLType.canDequantize == false`, e.g. the `iq*` types) loads fine and only `dequantize` rejects it.
public final class GGUFFile: @unchecked Sendable {
    public let url: URL
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Byte offset of the data section (tensor offsets are relative to it).
    public let dataOffset: Int
    /// Size of the whole file in bytes.
    public var fileSize: Int { mapping.bytes.count }

    private let mapping: WeightFileMapping
    private let tensorIndex: [String: Int]

    /// The GGUF magic, the bytes "GGUF" read as a little-endian uint32.
    static let magic: UInt32 = 0x4655_4747
    /// The default `general.alignment`.
    public static let defaultAlignment = 32
    /// Deepest nesting of arrays accepted in metadata (guards the recursion).
    static let maxArrayDepth = 16
    /// ggml's GGML_MAX_DIMS.
    static let maxDimensions = 4

    public init(contentsOf url: URL) throws {
        self.url = url
        let file = url.path
        let map: WeightFileMapping
        do {
            map = try WeightFileMapping(url: url)
        } catch {
            throw GGUFError(.cannotOpen, file: file, offset: nil, field: "file", detail: error.reason)
        }
        mapping = map
        var cursor = GGUFCursor(bytes: map.bytes, file: file)

        // Header.
        guard cursor.remaining >= 4 else {
            throw cursor.error(.truncated, "magic",
                               "the file is \(cursor.remaining) bytes long, too short for a GGUF header (expected \"GGUF\")")
        }
        let magic = try cursor.read(UInt32.self, "magic")
        guard magic == Self.magic else {
            let found = (0..<4).map { i -> String in
                let hex = String(map.bytes[i], radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined(separator: " ")
            throw cursor.error(.notGGUF, at: 0, "magic",
                               "expected the bytes \"GGUF\" (47 47 55 46), found \(found) — not a GGUF file")
        }
        let version = try cursor.read(UInt32.self, "header version")
        switch version {
        case 2, 3: break
        case 1:
            throw cursor.error(.unsupportedVersion, at: 4, "header version",
                               "GGUF version 1 (32-bit counts) is not supported; expected version 2 or 3")
        default:
            let swapped = version.byteSwapped
            let hint = (swapped == 2 || swapped == 3) ? " (this looks like a big-endian GGUF, which is not supported)" : ""
            throw cursor.error(.unsupportedVersion, at: 4, "header version",
                               "expected version 2 or 3, found \(version)\(hint)")
        }
        self.version = version
        let countsStart = cursor.offset
        let tensorCount = try cursor.readCount("header tensor_count")
        let kvCount = try cursor.readCount("header metadata_kv_count")
        // Each metadata pair needs ≥ 13 bytes (key length 8, type 4, value ≥ 1): reject counts the file cannot hold.
        guard kvCount <= cursor.remaining / 13 else {
            throw cursor.error(.truncated, at: countsStart + 8, "header metadata_kv_count",
                               "\(kvCount) metadata pairs cannot fit in the \(cursor.remaining) bytes that follow")
        }

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        var valueOffsets: [String: Int] = [:]
        metadata.reserveCapacity(kvCount)
        keys.reserveCapacity(kvCount)
        for i in 0..<kvCount {
            let keyStart = cursor.offset
            let key = try cursor.readString("metadata[\(i)] key")
            let field = "metadata[\(i)] \"\(key)\""
            let typeStart = cursor.offset
            let typeID = try cursor.read(UInt32.self, field + " value type")
            let value = try Self.readValue(typeID: typeID, typeOffset: typeStart, cursor: &cursor, field: field, depth: 0)
            guard metadata[key] == nil else {
                throw cursor.error(.duplicate, at: keyStart, field, "the key appears more than once")
            }
            metadata[key] = value
            keys.append(key)
            valueOffsets[key] = typeStart + 4
        }
        self.metadata = metadata
        self.metadataKeys = keys

        var alignment = Self.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.int, a > 0, a & (a - 1) == 0 else {
                throw GGUFError(.invalidValue, file: file, offset: valueOffsets["general.alignment"],
                                field: "metadata \"general.alignment\"",
                                detail: "expected a positive power-of-two integer, found \(value)")
            }
            alignment = a
        }
        self.alignment = alignment

        // Tensor directory. Each tensor info needs ≥ 24 bytes (name length 8, n_dims 4, type 4, offset 8).
        guard tensorCount <= cursor.remaining / 24 else {
            throw cursor.error(.truncated, at: countsStart, "header tensor_count",
                               "\(tensorCount) tensor infos cannot fit in the \(cursor.remaining) bytes left after "
                                   + "the metadata (which ends at byte \(cursor.offset))")
        }
        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        tensors.reserveCapacity(tensorCount)
        index.reserveCapacity(tensorCount)
        var offsetPositions: [Int] = []
        offsetPositions.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let infoStart = cursor.offset
            let name = try cursor.readString("tensor_info[\(i)] name")
            let field = "tensor_info[\(i)] \"\(name)\""
            let dimsStart = cursor.offset
            let nDims = try cursor.read(UInt32.self, field + " n_dims")
            guard nDims <= Self.maxDimensions else {
                throw cursor.error(.invalidValue, at: dimsStart, field + " n_dims",
                                   "expected at most \(Self.maxDimensions) dimensions, found \(nDims)")
            }
            var shape: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let dimStart = cursor.offset
                let raw = try cursor.read(UInt64.self, field + " dims[\(d)]")
                guard let n = Int(exactly: raw), n >= 0 else {
                    throw cursor.error(.invalidValue, at: dimStart, field + " dims[\(d)]",
                                       "dimension \(raw) is impossibly large")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow, product <= Int(Int32.max) * 1024 else {
                    throw cursor.error(.invalidValue, at: dimStart, field + " dims[\(d)]",
                                       "the element count of shape \(shape + [n]) is impossibly large")
                }
                elements = product
                shape.append(n)
            }
            let typeStart = cursor.offset
            let typeID = try cursor.read(UInt32.self, field + " type")
            guard let type = GGMLType(rawValue: typeID) else {
                throw cursor.error(.unknownTensorType, at: typeStart, field + " type",
                                   "unknown ggml type id \(typeID) (its block size is not known, so the file cannot be read)")
            }
            if let first = shape.first, first % type.blockSize != 0 {
                throw cursor.error(.invalidValue, at: dimsStart, field + " dims[0]",
                                   "the innermost dimension \(first) is not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            let offsetStart = cursor.offset
            let offset = try cursor.readCount(field + " offset")
            guard offset % alignment == 0 else {
                throw cursor.error(.misaligned, at: offsetStart, field + " offset",
                                   "data offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            guard index[name] == nil else {
                throw cursor.error(.duplicate, at: infoStart, field, "the tensor name appears more than once")
            }
            index[name] = tensors.count
            tensors.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: offset))
            offsetPositions.append(offsetStart)
        }

        // Data section: starts at the next multiple of the alignment; every tensor must lie inside the file.
        let headerEnd = cursor.offset
        let dataOffset = (headerEnd + alignment - 1) / alignment * alignment
        let fileSize = map.bytes.count
        for (i, t) in tensors.enumerated() {
            let (start, o1) = dataOffset.addingReportingOverflow(t.offset)
            let (end, o2) = start.addingReportingOverflow(t.byteCount)
            guard !o1, !o2, end <= fileSize else {
                throw GGUFError(.dataOutOfBounds, file: file, offset: o1 ? offsetPositions[i] : start,
                                field: "tensor \"\(t.name)\" data",
                                detail: "\(t.byteCount) bytes of \(t.type.name) data at data offset \(t.offset) "
                                    + "(file byte \(o1 ? "overflow" : String(start))) run past the end of the file "
                                    + "(\(fileSize) bytes)")
            }
        }
        self.dataOffset = dataOffset
        self.tensors = tensors
        self.tensorIndex = index
    }

    /// Minimum encoded size of one value of a metadata type, used to reject absurd array counts up front.
    private static func minimumEncodedSize(typeID: UInt32) -> Int? {
        switch typeID {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        case 9: 12
        default: nil
        }
    }

    private static func readValue(typeID: UInt32, typeOffset: Int, cursor: inout GGUFCursor, field: String,
                                  depth: Int) throws(GGUFError) -> GGUFValue {
        switch typeID {
        case 0: return .uint8(try cursor.read(UInt8.self, field + " uint8"))
        case 1: return .int8(try cursor.read(Int8.self, field + " int8"))
        case 2: return .uint16(try cursor.read(UInt16.self, field + " uint16"))
        case 3: return .int16(try cursor.read(Int16.self, field + " int16"))
        case 4: return .uint32(try cursor.read(UInt32.self, field + " uint32"))
        case 5: return .int32(try cursor.read(Int32.self, field + " int32"))
        case 6: return .float32(try cursor.readFloat(field + " float32"))
        case 7:
            let start = cursor.offset
            let b = try cursor.read(UInt8.self, field + " bool")
            guard b <= 1 else {
                throw cursor.error(.invalidValue, at: start, field + " bool", "expected 0 or 1, found \(b)")
            }
            return .bool(b == 1)
        case 8: return .string(try cursor.readString(field + " string"))
        case 10: return .uint64(try cursor.read(UInt64.self, field + " uint64"))
        case 11: return .int64(try cursor.read(Int64.self, field + " int64"))
        case 12: return .float64(try cursor.readDouble(field + " float64"))
        case 9:
            guard depth < maxArrayDepth else {
                throw cursor.error(.invalidValue, at: typeOffset, field,
                                   "arrays nested more than \(maxArrayDepth) deep")
            }
            let elementTypeStart = cursor.offset
            let elementType = try cursor.read(UInt32.self, field + " array element type")
            guard let minSize = minimumEncodedSize(typeID: elementType) else {
                throw cursor.error(.unknownValueType, at: elementTypeStart, field + " array element type",
                                   "expected a GGUF value type id 0…12, found \(elementType)")
            }
            let countStart = cursor.offset
            let count = try cursor.readCount(field + " array length")
            guard count <= cursor.remaining / minSize else {
                throw cursor.error(.truncated, at: countStart, field + " array length",
                                   "\(count) \(GGUFValue.typeName(elementType)) elements cannot fit in the "
                                       + "\(cursor.remaining) bytes left in the file")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(min(count, 1 << 16))   // grow with the data actually read
            for j in 0..<count {
                items.append(try readValue(typeID: elementType, typeOffset: elementTypeStart, cursor: &cursor,
                                           field: field + "[\(j)]", depth: depth + 1))
            }
            return .array(items)
        default:
            throw cursor.error(.unknownValueType, at: typeOffset, field + " value type",
                               "expected a GGUF value type id 0…12, found \(typeID)")
        }
    }

    /// The tensor with this name, if any.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's raw bytes inside the memory map. Valid only while this `GGUFFile` is alive.
    /// (`tensor` must come from this file; infos of other files are clamped to this file's bounds.)
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let all = mapping.bytes
        let (rawStart, o1) = dataOffset.addingReportingOverflow(tensor.offset)
        let start = o1 ? all.count : min(max(0, rawStart), all.count)
        let (rawEnd, o2) = start.addingReportingOverflow(max(0, tensor.byteCount))
        let end = o2 ? all.count : min(rawEnd, all.count)
        return UnsafeRawBufferPointer(rebasing: all[start..<end])
    }

    /// Converts a tensor to fp32 in ggml element order (`shape[0]` fastest).
    public func dequantize(_ name: String) throws -> [Float] {
        guard let info = tensor(named: name) else {
            throw GGUFError(.missingTensor, file: url.path, offset: nil, field: "tensor \"\(name)\"",
                            detail: "no tensor with this name in the file (\(tensors.count) tensors)")
        }
        try checkDequantizable(info)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            try dequantize(info, into: buffer)
            initialized = info.elementCount
        }
    }

    /// Converts a tensor to fp32 into `destination`, which must hold exactly `tensor.elementCount` floats.
    public func dequantize(_ tensor: GGUFTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try checkDequantizable(tensor)
        guard destination.count == tensor.elementCount else {
            throw GGUFError(.sizeMismatch, file: url.path, offset: nil, field: "tensor \"\(tensor.name)\"",
                            detail: "destination holds \(destination.count) floats, the tensor has \(tensor.elementCount)")
        }
        let source = bytes(of: tensor)
        guard source.count == tensor.byteCount else {
            throw GGUFError(.dataOutOfBounds, file: url.path, offset: dataOffset + tensor.offset,
                            field: "tensor \"\(tensor.name)\" data",
                            detail: "the tensor info does not describe data inside this file")
        }
        GGMLDequantizer.dequantize(type: tensor.type, from: source, into: destination)
    }

    /// Converts rows `rows` of a tensor viewed as a matrix `[rowCount, shape[0]]` (e.g. a few rows of the token
    /// embedding) into `destination`, which must hold exactly `rows.count * shape[0]` floats.
    public func dequantizeRows(_ tensor: GGUFTensorInfo, _ rows: Range<Int>,
                               into destination: UnsafeMutableBufferPointer<Float>) throws {
        try checkDequantizable(tensor)
        let rowLength = tensor.shape.first ?? 1
        guard rows.lowerBound >= 0, rows.upperBound <= tensor.rowCount else {
            throw GGUFError(.sizeMismatch, file: url.path, offset: nil, field: "tensor \"\(tensor.name)\"",
                            detail: "rows \(rows) are outside the tensor's \(tensor.rowCount) rows")
        }
        guard destination.count == rows.count * rowLength else {
            throw GGUFError(.sizeMismatch, file: url.path, offset: nil, field: "tensor \"\(tensor.name)\"",
                            detail: "destination holds \(destination.count) floats, \(rows.count) rows of "
                                + "\(rowLength) need \(rows.count * rowLength)")
        }
        let all = bytes(of: tensor)
        guard all.count == tensor.byteCount else {
            throw GGUFError(.dataOutOfBounds, file: url.path, offset: dataOffset + tensor.offset,
                            field: "tensor \"\(tensor.name)\" data",
                            detail: "the tensor info does not describe data inside this file")
        }
        let rowBytes = tensor.type.byteCount(elements: rowLength)
        let slice = UnsafeRawBufferPointer(rebasing: all[(rows.lowerBound * rowBytes)..<(rows.upperBound * rowBytes)])
        GGMLDequantizer.dequantize(type: tensor.type, from: slice, into: destination)
    }

    private func checkDequantizable(_ tensor: GGUFTensorInfo) throws(GGUFError) {
        guard tensor.type.canDequantize else {
            throw GGUFError(.unsupportedTensorType, file: url.path, offset: dataOffset + tensor.offset,
                            field: "tensor \"\(tensor.name)\"",
                            detail: "unsupported type \(tensor.type.rawValue) (\(tensor.type.name)) for tensor "
                                + "\(tensor.name): cannot dequantize it to fp32")
        }
    }
}
