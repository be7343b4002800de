import Foundation

/// Where a JSON value starts in its source text (1-based line and column, columns count Unicode scalars).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// A JSON value as written in a manifest: numbers keep their literal text (so `0.1` stays exact), objects keep
/// their member order, and every value remembers where it was found so errors can point at it.
public struct JSONValue: Sendable, CustomStringConvertible {
    /// The shape of a JSON value.
    public enum Content: Sendable {
        case null
        case bool(Bool)
        case number(JSONNumber)
        case string(String)
        case array([JSONValue])
        case object([JSONMember])
    }

    public var content: Content
    /// Where the value starts in the text it was parsed from; nil for values built in code.
    public var location: SourceLocation?

    public init(_ content: Content, location: SourceLocation? = nil) {
        self.content = content
        self.location = location
    }

    public static let null = JSONValue(.null)
    public static func bool(_ b: Bool) -> JSONValue { JSONValue(.bool(b)) }
    public static func string(_ s: String) -> JSONValue { JSONValue(.string(s)) }
    public static func number(_ n: JSONNumber) -> JSONValue { JSONValue(.number(n)) }
    public static func int(_ i: Int) -> JSONValue { JSONValue(.number(JSONNumber(i))) }
    public static func double(_ d: Double) -> JSONValue { JSONValue(.number(JSONNumber(d))) }
    public static func array(_ items: [JSONValue]) -> JSONValue { JSONValue(.array(items)) }
    public static func object(_ members: [JSONMember]) -> JSONValue { JSONValue(.object(members)) }
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        JSONValue(.object(pairs.map { JSONMember(key: $0.key, value: $0.value) }))
    }

    /// A short name of the value's JSON type, as used in error messages ("string", "integer", "object", ...).
    public var typeName: String {
        switch content {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let n): return n.integerValue != nil ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The value as written, shortened for error messages (`string "ten"`, `integer 12`, `array of 3`).
    public var summary: String {
        switch content {
        case .null: return "null"
        case .bool(let b): return "boolean \(b)"
        case .number(let n): return "\(typeName) \(n.literal)"
        case .string(let s):
            let short = s.count > 40 ? String(s.prefix(40)) + "…" : s
            return "string \"\(short)\""
        case .array(let items): return items.isEmpty ? "empty array" : "array of \(items.count)"
        case .object(let members): return members.isEmpty ? "empty object" : "object with keys \(members.map(\.key).prefix(6).joined(separator: ", "))"
        }
    }

    /// Canonical compact JSON text (see `CanonicalJSON`).
    public var description: String { CanonicalJSON.encode(self) }

    // MARK: accessors

    public var stringValue: String? { if case .string(let s) = content { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = content { return b } else { return nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = content { return n } else { return nil } }
    public var intValue: Int? { numberValue?.integerValue }
    public var doubleValue: Double? { numberValue?.doubleValue }
    public var arrayValue: [JSONValue]? { if case .array(let a) = content { return a } else { return nil } }
    public var objectValue: [JSONMember]? { if case .object(let o) = content { return o } else { return nil } }
    public var isNull: Bool { if case .null = content { return true } else { return false } }

    /// The member named `key` of an object (the first, should the text repeat it), nil otherwise.
    public subscript(key: String) -> JSONValue? {
        objectValue?.first(where: { $0.key == key })?.value
    }
}

/// One `"key": value` member of a JSON object, with where the key was written.
public struct JSONMember: Sendable {
    public var key: String
    public var value: JSONValue
    public var keyLocation: SourceLocation?

    public init(key: String, value: JSONValue, keyLocation: SourceLocation? = nil) {
        self.key = key
        self.value = value
        self.keyLocation = keyLocation
    }
}

extension JSONValue: Equatable {
    /// Values are equal when their canonical forms are: member order, number spelling (`1.50` vs `1.5`) and
    /// source locations do not matter.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a.content, b.content) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object, .object): return CanonicalJSON.encode(a) == CanonicalJSON.encode(b)
        default: return false
        }
    }
}

extension JSONValue: Hashable {
    public func hash(into hasher: inout Hasher) { hasher.combine(CanonicalJSON.encode(self)) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self.init(.string(value)) }
    public init(integerLiteral value: Int) { self.init(.number(JSONNumber(value))) }
    public init(booleanLiteral value: Bool) { self.init(.bool(value)) }
}
