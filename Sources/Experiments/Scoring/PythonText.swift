/// Text as Python 3 sees it: a sequence of Unicode code points, with Python's `str.lower()`, `str.split()`,
/// `str.find()` and the Unicode-aware regex class `\w`.
///
/// The paper's scorers ran in Python and compared offsets, so every position here is a code-point index
/// (not a `String.Index`, not UTF-16).
public struct PythonText: Sendable, Equatable {
    public let scalars: [Unicode.Scalar]

    public init(_ string: String) { scalars = Array(string.unicodeScalars) }
    public init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    public var count: Int { scalars.count }
    public var string: String { var s = ""; s.unicodeScalars.append(contentsOf: scalars); return s }

    /// `str.lower()`: the full (unconditional) Unicode lowercase mapping of every code point, which may change
    /// the length (U+0130 → "i̇"). Python's Final_Sigma special case only swaps σ/ς and never moves an offset.
    public func lowercased() -> PythonText {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for scalar in scalars {
            if scalar.isASCII {
                let v = scalar.value
                out.append((v >= 0x41 && v <= 0x5A) ? Unicode.Scalar(v + 32)! : scalar)
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return PythonText(scalars: out)
    }

    /// `str.find(needle)`: code-point offset of the first occurrence, or −1.
    public func find(_ needle: String) -> Int {
        let n = Array(needle.unicodeScalars)
        guard !n.isEmpty else { return 0 }
        guard n.count <= scalars.count else { return -1 }
        var i = 0
        while i + n.count <= scalars.count {
            if matches(n, at: i) { return i }
            i += 1
        }
        return -1
    }

    /// Offset of the first match of the regex `(?<!\w)word(?!\w)` (Python `re`, str pattern), or −1.
    /// `word` is a literal made of word characters, e.g. `"true"` or `"A"`.
    public func findWholeWord(_ word: String) -> Int {
        let n = Array(word.unicodeScalars)
        guard !n.isEmpty, n.count <= scalars.count else { return -1 }
        var i = 0
        while i + n.count <= scalars.count {
            if matches(n, at: i),
               i == 0 || !Self.isWordCharacter(scalars[i - 1]),
               i + n.count == scalars.count || !Self.isWordCharacter(scalars[i + n.count]) {
                return i
            }
            i += 1
        }
        return -1
    }

    /// `text[start..<end].split()`: maximal runs of non-whitespace, with Python's notion of whitespace.
    public func splitOnWhitespace(from start: Int, to end: Int) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        for scalar in scalars[max(0, start)..<min(end, scalars.count)] {
            if Self.isWhitespace(scalar) {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.unicodeScalars.append(scalar)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    private func matches(_ needle: [Unicode.Scalar], at i: Int) -> Bool {
        for j in 0..<needle.count where scalars[i + j] != needle[j] { return false }
        return true
    }

    /// Python's `\w` for str patterns: `str.isalnum()` (letters L*, and characters with a numeric type:
    /// decimal, digit or numeric) or the underscore.
    public static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return scalar.properties.numericType != nil
        }
    }

    /// Python's `str.isspace()`: the Unicode White_Space property plus the information separators U+001C…U+001F
    /// (bidirectional class B/S), which `str.split()` also splits on.
    public static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value >= 0x1C && scalar.value <= 0x1F { return true }
        return scalar.properties.isWhitespace
    }
}
