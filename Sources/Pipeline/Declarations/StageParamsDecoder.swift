/// Decodes a stage kind's typed parameters (its `Params` struct) from the resolved parameters of a stage, once.
/// Defaults come from the declaration's parameter table (the manifest decoder fills them in), never from the
/// struct; asking for a name the declaration does not list is an error naming the kind and the name, so a mistyped
/// key fails the first time the stage runs (and in `StageDeclarationTests`) instead of silently reading nothing.
public enum StageParamsDecoder {
    public static func decode<P: Decodable>(_ type: P.Type, from params: StageParams, spec: StageKindSpec) throws -> P {
        try P(from: ValueDecoder(value: params.json, path: [], spec: spec))
    }
}

/// A parameter a runner asked for is not in its kind's table, or a value does not have the type the runner reads.
public struct StageParamsError: Error, CustomStringConvertible {
    public var description: String
}

private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: [CodingKey]
    let spec: StageKindSpec
    var codingPath: [CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<K: CodingKey>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
        guard let members = value.objectValue else { throw mismatch("an object") }
        return KeyedDecodingContainer(Keyed<K>(members: members, path: path, spec: spec))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard let items = value.arrayValue else { throw mismatch("an array") }
        return Unkeyed(items: items, path: path, spec: spec)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { Single(value: value, path: path, spec: spec) }

    func mismatch(_ expected: String) -> StageParamsError {
        StageParamsError(description: "stage kind \(spec.kind): parameter \(path.map(\.stringValue).joined(separator: ".")): expected \(expected), found \(value.summary)")
    }
}

private struct Keyed<K: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [JSONMember]
    let path: [CodingKey]
    let spec: StageKindSpec
    var codingPath: [CodingKey] { path }
    var allKeys: [K] { members.compactMap { K(stringValue: $0.key) } }

    func value(_ key: K) throws -> JSONValue? {
        if path.isEmpty, spec.param(key.stringValue) == nil {
            throw StageParamsError(description: "stage kind \(spec.kind) reads parameter `\(key.stringValue)`, which its declaration does not list (parameters: \(spec.params.map(\.name).joined(separator: ", ")))")
        }
        return members.first { $0.key == key.stringValue }?.value
    }

    func decoder(_ key: K) throws -> ValueDecoder {
        guard let v = try value(key) else {
            throw StageParamsError(description: "stage kind \(spec.kind): parameter `\((path + [key]).map(\.stringValue).joined(separator: "."))` has no value (declare a default or make the field optional)")
        }
        return ValueDecoder(value: v, path: path + [key], spec: spec)
    }

    /// True for an undeclared parameter too, so that decoding it goes on to `decodeNil`, which names it.
    func contains(_ key: K) -> Bool {
        guard let found = try? value(key) else { return true }
        return found != nil
    }
    func decodeNil(forKey key: K) throws -> Bool { try value(key).map(\.isNull) ?? true }
    func decode<T: Decodable>(_ type: T.Type, forKey key: K) throws -> T { try T(from: decoder(key)) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: K) throws -> T? {
        guard let v = try value(key), !v.isNull else { return nil }
        return try T(from: ValueDecoder(value: v, path: path + [key], spec: spec))
    }
    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: K) throws -> KeyedDecodingContainer<N> {
        try decoder(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: K) throws -> UnkeyedDecodingContainer { try decoder(key).unkeyedContainer() }
    func superDecoder() throws -> Decoder { ValueDecoder(value: .object(members), path: path, spec: spec) }
    func superDecoder(forKey key: K) throws -> Decoder { try decoder(key) }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let path: [CodingKey]
    let spec: StageKindSpec
    var currentIndex = 0
    var codingPath: [CodingKey] { path }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw StageParamsError(description: "stage kind \(spec.kind): parameter \(path.map(\.stringValue).joined(separator: ".")): fewer items than read")
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: items[currentIndex], path: path + [Key(intValue: currentIndex)], spec: spec)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: next()) }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

private struct Single: SingleValueDecodingContainer {
    let value: JSONValue
    let path: [CodingKey]
    let spec: StageKindSpec
    var codingPath: [CodingKey] { path }
    var decoder: ValueDecoder { ValueDecoder(value: value, path: path, spec: spec) }

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard let b = value.boolValue else { throw decoder.mismatch("a boolean") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard let s = value.stringValue else { throw decoder.mismatch("a string") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard let d = value.doubleValue else { throw decoder.mismatch("a number") }
        return d
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int {
        guard let i = value.intValue else { throw decoder.mismatch("an integer") }
        return i
    }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }

    private func integer<I: FixedWidthInteger>() throws -> I {
        guard let i = value.intValue, let exact = I(exactly: i) else { throw decoder.mismatch("an integer within \(I.self)'s range") }
        return exact
    }
}
