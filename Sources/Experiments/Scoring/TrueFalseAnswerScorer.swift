/// The paper's scorer for true/false prompts ("GPT-4 facts"; METHOD.md §6).
///
/// Candidates for True: whole-word "true" in the lowercased text, whole-word "A" in the text.
/// Candidates for False: whole-word "false" (lowercased), whole-word "B", and the plain substring "t true"
/// (lowercased; catches "not true"). Offsets are code points. The earliest candidate wins; a tie or an empty
/// True side goes to False; no candidate at all is unparseable.
public enum TrueFalseAnswerScorer {
    public static func score(_ answer: String) -> AnswerChoice {
        let text = PythonText(answer)
        let low = text.lowercased()
        let trueSide = [low.findWholeWord("true"), text.findWholeWord("A")].filter { $0 != -1 }
        let falseSide = [low.findWholeWord("false"), text.findWholeWord("B"), low.find("t true")].filter { $0 != -1 }
        guard let firstTrue = trueSide.min() else {
            return falseSide.isEmpty ? .unparseable : .b
        }
        guard let firstFalse = falseSide.min() else { return .a }
        return firstTrue < firstFalse ? .a : .b
    }
}
