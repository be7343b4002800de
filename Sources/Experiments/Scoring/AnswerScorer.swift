/// Which answer a generated text chose, read with the paper's regex scorers (METHOD.md §6).
public enum AnswerChoice: Int, Sendable, Codable, Equatable {
    /// "True" / "A" (the first choice).
    case first = 1
    /// "False" / "B" (the second choice).
    case second = -1
    /// Neither could be found.
    case unparseable = 0
}

/// The two scorers of the paper: true/false for the GPT-4-facts set, A/B for TQA and the other A/B sets.
public enum AnswerScorer: String, Sendable, Codable, CaseIterable {
    case facts
    case ab

    public func score(_ text: String) -> AnswerChoice {
        switch self {
        case .facts: Self.scoreFacts(text)
        case .ab: Self.scoreAB(text)
        }
    }

    /// True wins when its earliest cue ("true" as a word, "A" as a word) comes before False's ("false", "B",
    /// or the substring "t true" as in "not true").
    static func scoreFacts(_ text: String) -> AnswerChoice {
        let t = ScoredText(text), low = ScoredText(text.lowercased())
        let trueSide = [low.findWord("true"), t.findWord("A")].filter { $0 >= 0 }
        let falseSide = [low.findWord("false"), t.findWord("B"), low.find("t true")].filter { $0 >= 0 }
        if trueSide.isEmpty && falseSide.isEmpty { return .unparseable }
        return (trueSide.min() ?? Int.max) < (falseSide.min() ?? Int.max) ? .first : .second
    }

    /// A's earliest cue ("A", "yes") against B's ("B", "no"); a side's cue is dropped when "not" is among the last
    /// six words of the 40 code points before it.
    static func scoreAB(_ text: String) -> AnswerChoice {
        let t = ScoredText(text), low = ScoredText(text.lowercased())
        func side(_ cues: [Int]) -> Int? {
            guard let m = cues.filter({ $0 >= 0 }).min() else { return nil }
            let before = t.slice((m - 40)..<m)
            let words = before.split(whereSeparator: { $0.isWhitespace }).suffix(6)
            return words.contains { $0.lowercased() == "not" } ? nil : m
        }
        let a = side([t.findWord("A"), low.findWord("yes")]), b = side([t.findWord("B"), low.findWord("no")])
        if a == nil && b == nil { return .unparseable }
        return (a ?? Int.max) < (b ?? Int.max) ? .first : .second
    }
}
