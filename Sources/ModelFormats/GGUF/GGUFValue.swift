/// One metadata value of a GGUF file, in the file's own type (arrays are homogeneous in the file).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// Any integer value as `Int` (nil for non-integers and for a `uint64` above `Int.max`).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Any number (integer or float) as `Double`.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        default: int.map(Double.init)
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var array: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// An array whose elements are all strings.
    public var strings: [String]? {
        guard let a = array else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let s = v.string else { return nil }
            out.append(s)
        }
        return out
    }

    /// An array whose elements are all integers.
    public var ints: [Int]? {
        guard let a = array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let i = v.int else { return nil }
            out.append(i)
        }
        return out
    }

    /// An array whose elements are all numbers, as `Float`.
    public var floats: [Float]? {
        guard let a = array else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a {
            if case .float32(let f) = v { out.append(f); continue }
            guard let d = v.double else { return nil }
            out.append(Float(d))
        }
        return out
    }

    /// The type id this value has in a GGUF file (`gguf_type`).
    public var typeID: UInt32 {
        switch self {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    /// The GGUF name of a metadata value type id, for messages.
    public static func typeName(_ id: UInt32) -> String {
        switch id {
        case 0: "uint8"
        case 1: "int8"
        case 2: "uint16"
        case 3: "int16"
        case 4: "uint32"
        case 5: "int32"
        case 6: "float32"
        case 7: "bool"
        case 8: "string"
        case 9: "array"
        case 10: "uint64"
        case 11: "int64"
        case 12: "float64"
        default: "unknown type \(id)"
        }
    }
}

extension GGUFValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .array(let a):
            a.count <= 8 ? "[" + a.map(\.description).joined(separator: ", ") + "]"
                : "[" + a.prefix(4).map(\.description).joined(separator: ", ") + ", … (\(a.count) items)]"
        }
    }
}

extension GGUFValue {
    /// A short rendering for `reptune inspect` (long strings and arrays elided).
    public var summary: String {
        switch self {
        case .string(let s): s.count > 80 ? "\"\(s.prefix(77))...\" (\(s.count) chars)" : "\"\(s)\""
        case .array(let a): a.count > 8 ? "[\(a.count) values]" : "[" + a.map(\.summary).joined(separator: ", ") + "]"
        case .bool(let b): "\(b)"
        case .float32(let f): "\(f)"
        case .float64(let f): "\(f)"
        default: int.map(String.init) ?? "?"
        }
    }
}
