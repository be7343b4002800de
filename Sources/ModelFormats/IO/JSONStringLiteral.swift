/// JSON string literals as every hand-written JSON writer of reptune spells them: quotes, backslash and the short
/// escapes (\n \r \t \b \f) escaped, other control characters as \u00XX, everything else verbatim (UTF-8).
/// The canonical form of cache keys depends on this spelling: do not change it.
public enum JSONStringLiteral {
    public static func append(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    public static func quoted(_ s: String) -> String {
        var out = ""
        append(s, to: &out)
        return out
    }
}
