/// Rendering of `JSONValue`s as text: canonical (sorted keys, no whitespace) or pretty (source order, indented).
public enum JSONText {
    /// Sorted keys, no whitespace, numbers in their shortest exact form.
    public static func canonical(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, sorted: true, indent: nil, level: 0)
        return out
    }

    /// Keys in stored order, two-space indentation, trailing newline not included.
    public static func pretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, sorted: false, indent: "  ", level: 0)
        return out
    }

    /// The shortest decimal text that reads back as exactly `value` ("0.3", "20", "1e-5"); non-finite values give "null".
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let text = "\(value)"
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
        var mantissa = String(text[..<e])
        if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
        var exponent = String(text[text.index(after: e)...])
        var negative = false
        if exponent.hasPrefix("+") { exponent.removeFirst() }
        if exponent.hasPrefix("-") { negative = true; exponent.removeFirst() }
        while exponent.count > 1, exponent.hasPrefix("0") { exponent.removeFirst() }
        return mantissa + "e" + (negative ? "-" : "") + exponent
    }

    /// `s` as a JSON string literal with quotes and escapes.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func write(_ value: JSONValue, into out: inout String, sorted: Bool, indent: String?, level: Int) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += number(d)
        case .string(let s): out += quoted(s)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            // Arrays of scalars stay on one line in pretty output.
            let inline = indent == nil || items.allSatisfy { $0.arrayValue == nil && $0.objectMembers == nil }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += inline && indent != nil ? ", " : "," }
                if !inline { newline(&out, indent, level + 1) }
                write(item, into: &out, sorted: sorted, indent: indent, level: level + 1)
            }
            if !inline { newline(&out, indent, level) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            let ordered = sorted ? members.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) } : members
            out += "{"
            for (i, m) in ordered.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                out += quoted(m.key)
                out += indent == nil ? ":" : ": "
                write(m.value, into: &out, sorted: sorted, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out += "\n" + String(repeating: indent, count: level)
    }
}
