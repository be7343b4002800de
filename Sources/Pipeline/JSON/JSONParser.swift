/// A JSON text that does not parse: where, and what was expected and found.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public var description: String { "\(location): \(message)" }
}

/// A strict RFC 8259 JSON parser that records the line and column of every value, so that both syntax errors and
/// later validation errors can point at the text. Rejects duplicate object keys and nesting deeper than
/// `maxDepth`; never traps on malformed input.
public struct JSONParser {
    public static let maxDepth = 200

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses one JSON value filling the whole text (surrounding whitespace and a UTF-8 byte-order mark allowed).
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var p = JSONParser(bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { p.index = 3 }
        p.skipWhitespace()
        if p.index >= bytes.count { throw p.error("the text is empty; expected a JSON value") }
        let value = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.index < bytes.count {
            throw p.error("expected end of text after the JSON value, found \(p.describeCurrent())")
        }
        return value
    }

    // MARK: scanning

    private var location: SourceLocation { SourceLocation(line: line, column: column) }

    private func error(_ message: String, at loc: SourceLocation? = nil) -> JSONSyntaxError {
        JSONSyntaxError(location: loc ?? location, message: message)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func advance() {
        guard index < bytes.count else { return }
        let b = bytes[index]
        index += 1
        if b == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1
        }
    }

    private mutating func skipWhitespace() {
        while let b = current, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { advance() }
    }

    /// The character at the current position, quoted, for messages.
    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of text" }
        // Decode one UTF-8 scalar for the message.
        var end = index + 1
        while end < bytes.count, end - index < 4, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let text = String(decoding: bytes[index..<end], as: UTF8.self)
        switch text {
        case "\n": return "a line break"
        case "\t": return "a tab"
        default: return "'\(text)'"
        }
    }

    // MARK: grammar

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("JSON nested deeper than \(Self.maxDepth) levels") }
        let start = location
        guard let b = current else { throw error("unexpected end of text; expected a JSON value") }
        switch b {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return JSONValue(.string(try parseString()), location: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONValue(.number(try parseNumber()), location: start)
        case UInt8(ascii: "t"): try expectWord("true"); return JSONValue(.bool(true), location: start)
        case UInt8(ascii: "f"): try expectWord("false"); return JSONValue(.bool(false), location: start)
        case UInt8(ascii: "n"): try expectWord("null"); return JSONValue(.null, location: start)
        case UInt8(ascii: "'"):
            throw error("strings must use double quotes (\"), found a single quote")
        default:
            throw error("expected a JSON value (object, array, string, number, true, false or null), found \(describeCurrent())")
        }
    }

    private mutating func expectWord(_ word: String) throws(JSONSyntaxError) {
        let start = location
        for expected in word.utf8 {
            guard current == expected else {
                throw error("expected '\(word)', found \(describeCurrent())", at: current == nil ? nil : start)
            }
            advance()
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        let start = location
        advance()  // {
        var members: [JSONMember] = []
        var seen: [String: SourceLocation] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") { advance(); return JSONValue(.object([]), location: start) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                if current == UInt8(ascii: "}") { throw error("trailing comma before '}' is not allowed in JSON") }
                throw error("expected a double-quoted object key, found \(describeCurrent())")
            }
            let keyLocation = location
            let key = try parseString()
            if let first = seen[key] {
                throw error("duplicate key \"\(key)\" in object (first written at \(first))", at: keyLocation)
            }
            seen[key] = keyLocation
            skipWhitespace()
            guard current == UInt8(ascii: ":") else {
                throw error("expected ':' after key \"\(key)\", found \(describeCurrent())")
            }
            advance()
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append(JSONMember(key: key, value: value, keyLocation: keyLocation))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"): advance(); return JSONValue(.object(members), location: start)
            default:
                throw error("expected ',' or '}' after the value of \"\(key)\" (object opened at \(start)), found \(describeCurrent())")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        let start = location
        advance()  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { advance(); return JSONValue(.array([]), location: start) }
        while true {
            skipWhitespace()
            if current == UInt8(ascii: "]") { throw error("trailing comma before ']' is not allowed in JSON") }
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"): advance(); return JSONValue(.array(items), location: start)
            default:
                throw error("expected ',' or ']' after array element \(items.count - 1) (array opened at \(start)), found \(describeCurrent())")
            }
        }
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONNumber {
        let startIndex = index
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if current == UInt8(ascii: "-") { advance() }
        guard isDigit(current) else { throw error("expected a digit in number, found \(describeCurrent())") }
        if current == UInt8(ascii: "0") {
            advance()
            if isDigit(current) { throw error("numbers must not have leading zeros") }
        } else {
            while isDigit(current) { advance() }
        }
        if current == UInt8(ascii: ".") {
            advance()
            guard isDigit(current) else { throw error("expected a digit after the decimal point, found \(describeCurrent())") }
            while isDigit(current) { advance() }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            advance()
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { advance() }
            guard isDigit(current) else { throw error("expected a digit in the exponent, found \(describeCurrent())") }
            while isDigit(current) { advance() }
        }
        let literal = String(decoding: bytes[startIndex..<index], as: UTF8.self)
        return JSONNumber(literal: literal)
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = location
        advance()  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flush(_ p: inout JSONParser, into s: inout String.UnicodeScalarView) throws(JSONSyntaxError) {
            guard runStart < p.index else { return }
            guard let text = String(validating: p.bytes[runStart..<p.index], as: UTF8.self) else {
                throw p.error("string contains bytes that are not valid UTF-8", at: start)
            }
            s.append(contentsOf: text.unicodeScalars)
        }
        while true {
            guard let b = current else { throw error("unterminated string (opened at \(start))") }
            if b == UInt8(ascii: "\"") {
                try flush(&self, into: &scalars)
                advance()
                return String(scalars)
            }
            if b < 0x20 {
                throw error("control character \(describeCurrent()) inside a string must be escaped (string opened at \(start))")
            }
            if b == UInt8(ascii: "\\") {
                try flush(&self, into: &scalars)
                advance()
                guard let e = current else { throw error("unterminated escape sequence in string") }
                let escLocation = location
                advance()
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    let unit = try parseHex4()
                    if unit >= 0xD800 && unit < 0xDC00 {
                        guard current == UInt8(ascii: "\\") else {
                            throw error("unpaired high surrogate \\u\(String(unit, radix: 16)) in string", at: escLocation)
                        }
                        advance()
                        guard current == UInt8(ascii: "u") else {
                            throw error("unpaired high surrogate \\u\(String(unit, radix: 16)) in string", at: escLocation)
                        }
                        advance()
                        let low = try parseHex4()
                        guard low >= 0xDC00 && low < 0xE000 else {
                            throw error("high surrogate not followed by a low surrogate in string", at: escLocation)
                        }
                        let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                    } else if let scalar = Unicode.Scalar(unit) {
                        scalars.append(scalar)
                    } else {
                        throw error("unpaired low surrogate \\u\(String(unit, radix: 16)) in string", at: escLocation)
                    }
                default:
                    throw error("invalid escape '\\\(String(decoding: [e], as: UTF8.self))' in string; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: escLocation)
                }
                runStart = index
                continue
            }
            advance()
        }
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let b = current else { throw error("unterminated \\u escape") }
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("expected 4 hex digits after \\u, found \(describeCurrent())")
            }
            value = value * 16 + digit
            advance()
        }
        return value
    }
}
