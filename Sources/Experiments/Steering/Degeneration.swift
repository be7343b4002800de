/// How repetitive a generated text is, as steering studies report it beside the behaviour: distinct-n (the share of
/// a text's word n-grams that are different) and its complement, the share of n-grams that repeat an earlier one.
/// Words are the text split on whitespace, lowercased; a text with fewer than n words has no n-grams.
public struct Degeneration: Sendable, Equatable {
    public let n: Int
    /// n-grams in the text.
    public let total: Int
    /// Different n-grams among them.
    public let distinct: Int

    public init(_ text: String, n: Int) {
        precondition(n >= 1, "Degeneration: n must be at least 1")
        let words = text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
        self.n = n
        total = max(words.count - n + 1, 0)
        var seen = Set<ArraySlice<String>>()
        for i in 0..<total { seen.insert(words[i..<i + n]) }
        distinct = seen.count
    }

    /// Distinct n-grams ÷ n-grams (1 when every n-gram differs; nil without n-grams).
    public var distinctRatio: Double? { total == 0 ? nil : Double(distinct) / Double(total) }

    /// Repeated n-grams ÷ n-grams (0 when none repeats; nil without n-grams).
    public var repetitionRatio: Double? { distinctRatio.map { 1 - $0 } }
}
