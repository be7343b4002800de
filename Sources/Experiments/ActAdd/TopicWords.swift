/// ActAdd's topic-word count (`get_word_count_metric`): the text is lowercased, every character that is not a
/// letter, digit or underscore becomes a space, the result is split on whitespace, and the words that equal one of
/// the topic's words are counted.
public struct TopicWords: Sendable, Equatable {
    public let words: Set<String>

    public init(_ words: [String]) { self.words = Set(words.map { $0.lowercased() }) }

    /// ActAdd's wedding list (the same in `openwebtext_experiments.py` and `wedding_generations.py`).
    public static let wedding = TopicWords(["wedding", "weddings", "wed", "marry", "married", "marriage", "bride",
                                            "groom", "honeymoon"])

    /// How many words of `text` are topic words.
    public func count(in text: String) -> Int {
        Self.words(of: text).reduce(0) { $0 + (words.contains($1) ? 1 : 0) }
    }

    /// The words as the count reads them: lowercase, `\W` → space, split on whitespace.
    public static func words(of text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            let isWord = scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            cleaned.append(isWord ? scalar : " ")
        }
        return String(cleaned).split(whereSeparator: \.isWhitespace).map(String.init)
    }
}
