/// A strict RFC 8259 JSON parser that reports the line and column of the first syntax error.
public struct JSONParser: Sendable {
    /// Deepest nesting of arrays and objects accepted before giving up (guards the stack).
    public static let maximumDepth = 256

    public let file: String

    public init(file: String = "manifest.json") { self.file = file }

    /// Parses one complete JSON document.
    public func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var cursor = Cursor(bytes: Array(text.utf8), file: file)
        cursor.skipWhitespace()
        let value = try cursor.value(depth: 0)
        cursor.skipWhitespace()
        if cursor.index < cursor.bytes.count { throw cursor.error(expected: "end of input") }
        return value
    }
}

private struct Cursor {
    let bytes: [UInt8]
    let file: String
    var index = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { index += 1 }
    }

    func error(expected: String, at position: Int? = nil) -> JSONSyntaxError {
        let at = min(position ?? index, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<at where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return JSONSyntaxError(file: file, line: line, column: at - lineStart + 1, expected: expected, found: found(at))
    }

    func found(_ at: Int) -> String {
        guard at < bytes.count else { return "end of input" }
        let b = bytes[at]
        switch b {
        case 0x0A: return "a line break"
        case 0x09: return "a tab"
        case 0..<0x20: return "control character 0x" + String(b, radix: 16)
        default:
            let end = min(at + 4, bytes.count)
            let text = String(decoding: bytes[at..<end], as: UTF8.self)
            return "'" + String(text.first ?? "?") + "'"
        }
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard let b = current else { throw error(expected: "a value") }
        switch b {
        case UInt8(ascii: "{"):
            guard depth < JSONParser.maximumDepth else { throw error(expected: "at most \(JSONParser.maximumDepth) levels of nesting") }
            return try object(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < JSONParser.maximumDepth else { throw error(expected: "at most \(JSONParser.maximumDepth) levels of nesting") }
            return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw error(expected: "a value")
        }
    }

    mutating func literal(_ word: String) throws(JSONSyntaxError) {
        for expected in word.utf8 {
            guard current == expected else { throw error(expected: "'\(word)'") }
            index += 1
        }
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var members: [JSONMember] = []
        var seen = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") { index += 1; return .object([]) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error(expected: "a string key") }
            let keyStart = index
            let key = try string()
            guard seen.insert(key).inserted else {
                throw error(expected: "a key not used before in this object (duplicate \(JSONText.quoted(key)))", at: keyStart)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error(expected: "':'") }
            index += 1
            skipWhitespace()
            members.append(JSONMember(key, try value(depth: depth)))
            skipWhitespace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            if current == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw error(expected: "',' or '}'")
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { index += 1; return .array([]) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            if current == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error(expected: "',' or ']'")
        }
    }

    mutating func hexQuad() throws(JSONSyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let b = current else { throw error(expected: "a hex digit") }
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error(expected: "a hex digit")
            }
            v = v * 16 + digit
            index += 1
        }
        return v
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let b = current else { throw error(expected: "'\"' closing the string") }
            if b == UInt8(ascii: "\"") { index += 1; break }
            if b < 0x20 { throw error(expected: "'\"' closing the string") }
            if b != UInt8(ascii: "\\") { out.append(b); index += 1; continue }
            index += 1
            guard let e = current else { throw error(expected: "an escape character") }
            index += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hexQuad()
                if (0xD800..<0xDC00).contains(code), current == UInt8(ascii: "\\"),
                   index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                {
                    let save = index
                    index += 2
                    let low = try hexQuad()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                index -= 1
                throw error(expected: "one of the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func digits() -> Int {
        let start = index
        while let b = current, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    mutating func number() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw error(expected: "a digit")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            if digits() == 0 { throw error(expected: "a digit after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            if digits() == 0 { throw error(expected: "a digit in the exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw error(expected: "a number within the range of a double", at: start) }
        return .number(d)
    }
}
