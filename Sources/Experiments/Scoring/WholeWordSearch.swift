/// Python-compatible text search for the scorers: offsets in Unicode code points, and whole-word matching as
/// `re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text)` with Python's Unicode `\w`.
public struct ScoredText: Sendable {
    public let scalars: [Unicode.Scalar]

    public init(_ text: String) { scalars = Array(text.unicodeScalars) }

    /// Python's `\w`: letters, numbers (categories L*, N*) and `_`.
    @inlinable
    public static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        if s == "_" { return true }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// Code-point offset of the first whole-word occurrence of `word`, or −1.
    public func findWord(_ word: String) -> Int {
        let w = Array(word.unicodeScalars)
        guard !w.isEmpty, w.count <= scalars.count else { return -1 }
        for start in 0...(scalars.count - w.count) where scalars[start] == w[0] {
            guard Array(scalars[start..<(start + w.count)]) == w else { continue }
            if start > 0 && Self.isWordCharacter(scalars[start - 1]) { continue }
            let end = start + w.count
            if end < scalars.count && Self.isWordCharacter(scalars[end]) { continue }
            return start
        }
        return -1
    }

    /// Code-point offset of the first occurrence of `needle` (Python's `str.find`), or −1.
    public func find(_ needle: String) -> Int {
        let n = Array(needle.unicodeScalars)
        guard !n.isEmpty else { return 0 }
        guard n.count <= scalars.count else { return -1 }
        for start in 0...(scalars.count - n.count) where Array(scalars[start..<(start + n.count)]) == n { return start }
        return -1
    }

    /// The text of code points `range` (clamped).
    public func slice(_ range: Range<Int>) -> String {
        let r = max(0, range.lowerBound)..<min(scalars.count, range.upperBound)
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars[r])
        return String(v)
    }
}
