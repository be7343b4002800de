import Foundation

/// Writes GGUF v3 files: metadata of every value type and F32/F16 tensors, aligned as the reader expects.
///
/// The file is written to a temporary name beside the destination and renamed, so a reader never sees a
/// partial file. Used to save tuned weights, control vectors and test fixtures.
public struct GGUFWriter {
    /// A tensor to write: `shape` in ggml order (`shape[0]` contiguous), values row-major.
    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var type: GGMLType
        public var values: [Float]

        public init(name: String, shape: [Int], type: GGMLType = .f32, values: [Float]) {
            self.name = name
            self.shape = shape
            self.type = type
            self.values = values
        }
    }

    public var metadata: [(key: String, value: GGUFValue)] = []
    public var tensors: [Tensor] = []
    public var alignment = 32

    public init() {}

    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value } else {
            metadata.append((key, value))
        }
    }

    public mutating func add(_ tensor: Tensor) { tensors.append(tensor) }

    /// The file's bytes.
    public func encoded() throws -> Data {
        var out = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) {
            let bytes = Array(s.utf8)
            u64(UInt64(bytes.count))
            out.append(contentsOf: bytes)
        }
        func value(_ v: GGUFValue) throws {
            switch v {
            case .uint8(let x): out.append(x)
            case .int8(let x): out.append(UInt8(bitPattern: x))
            case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case .int16(let x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case .uint32(let x): u32(x)
            case .int32(let x): u32(UInt32(bitPattern: x))
            case .float32(let x): u32(x.bitPattern)
            case .bool(let x): out.append(x ? 1 : 0)
            case .string(let s): string(s)
            case .uint64(let x): u64(x)
            case .int64(let x): u64(UInt64(bitPattern: x))
            case .float64(let x): u64(x.bitPattern)
            case .array(let items):
                let elementType = items.first?.typeID ?? 4
                guard items.allSatisfy({ $0.typeID == elementType }) else {
                    throw GGUFError(file: "(writer)", offset: nil, field: "metadata array",
                                    "every element of a GGUF array must have the same type")
                }
                u32(elementType)
                u64(UInt64(items.count))
                for item in items { try value(item) }
            }
        }
        var meta = metadata
        if alignment != 32, !meta.contains(where: { $0.key == "general.alignment" }) {
            meta.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        out.append(contentsOf: Array("GGUF".utf8))
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(meta.count))
        for (key, v) in meta {
            string(key)
            u32(v.typeID)
            try value(v)
        }
        var offset = 0
        var offsets = [Int]()
        for t in tensors {
            guard t.type == .f32 || t.type == .f16 else {
                throw GGUFError(file: "(writer)", offset: nil, field: "tensors[\(t.name)]",
                                "the writer stores F32 or F16, not \(t.type.name)")
            }
            guard t.shape.reduce(1, *) == t.values.count else {
                throw GGUFError(file: "(writer)", offset: nil, field: "tensors[\(t.name)]",
                                "shape \(t.shape) holds \(t.shape.reduce(1, *)) values, \(t.values.count) given")
            }
            string(t.name)
            u32(UInt32(t.shape.count))
            for dim in t.shape { u64(UInt64(dim)) }
            u32(t.type.rawValue)
            u64(UInt64(offset))
            offsets.append(offset)
            offset += (t.values.count * (t.type == .f32 ? 4 : 2) + alignment - 1) / alignment * alignment
        }
        let pad = { (n: Int) in out.append(contentsOf: [UInt8](repeating: 0, count: (alignment - n % alignment) % alignment)) }
        pad(out.count)
        for t in tensors {
            if t.type == .f32 {
                t.values.withUnsafeBytes { out.append(contentsOf: $0) }
            } else {
                for v in t.values { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
            pad(out.count)
        }
        return out
    }

    /// Writes the file atomically (temporary name in the same directory, then rename).
    public func write(to url: URL) throws {
        try AtomicFile.write(try encoded(), to: url)
    }
}
