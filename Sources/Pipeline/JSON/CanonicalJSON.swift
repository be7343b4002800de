import ModelFormats

/// The one spelling of a JSON value used for hashing and storage: no whitespace, object keys sorted by their
/// UTF-8 bytes (a later duplicate key wins), numbers normalised (`1.50` → `1.5`, `1e-5` → `0.00001`), strings
/// with only the escapes JSON requires.
public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    static func write(_ value: JSONValue, into out: inout String) {
        switch value.content {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.canonical
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let members):
            var unique: [String: JSONValue] = [:]
            for m in members { unique[m.key] = m.value }
            let keys = unique.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            out += "{"
            for (i, key) in keys.enumerated() {
                if i > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(unique[key]!, into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) { JSONStringLiteral.append(s, to: &out) }

    /// Indented JSON for files people read (docs, the JSON Schema): two spaces, keys in the given order.
    public static func pretty(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value.content {
        case .array(let items) where !items.isEmpty:
            if items.allSatisfy({ $0.arrayValue == nil && $0.objectValue == nil }) {
                return "[" + items.map { encode($0) }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members) where !members.isEmpty:
            return "{\n" + members.map { m -> String in
                var key = ""
                writeString(m.key, into: &key)
                return inner + key + ": " + pretty(m.value, indent: inner)
            }.joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return encode(value)
        }
    }
}
