import Foundation

/// Evaluation prompts for the paper's TruthfulQA misconception test: prompt i (0-based) offers the correct
/// answer as (A) when i is even, as (B) when odd.
public enum TruthfulQAPrompts {
    /// `Question: {q}\n\nChoices:\n (A) {a}\n (B) {b}\n\nAnswer:`
    public static func user(question: String, optionA: String, optionB: String) -> String {
        "Question: \(question)\n\nChoices:\n (A) \(optionA)\n (B) \(optionB)\n\nAnswer:"
    }

    public static func evaluation(_ item: TruthfulQAItem, index: Int) -> PromptSpec {
        let correctFirst = TruthfulQAMisconceptions.correctChoice(at: index) == .a
        let a = correctFirst ? item.correctAnswer : item.incorrectAnswer
        let b = correctFirst ? item.incorrectAnswer : item.correctAnswer
        return PromptSpec(system: PaperPromptText.answerOnlyInstruction, user: user(question: item.question, optionA: a, optionB: b))
    }

    public static func evaluation(_ set: TruthfulQAMisconceptions) -> [PromptSpec] {
        set.items.enumerated().map { evaluation($1, index: $0) }
    }
}

/// Prompts for the morally ambiguous questions, in A/B and open-ended form.
public enum MorallyAmbiguousPrompts {
    /// A/B form: the question after the answer-only system text.
    public static func ab(_ question: String) -> PromptSpec {
        PromptSpec(system: PaperPromptText.answerOnlyInstruction, user: question)
    }

    /// Open-ended form: no system text; `Pick one of the following two choices:\n (A) X\n (B) Y` becomes `X\nor\nY`.
    public static func openEnded(_ question: String) -> PromptSpec {
        let user = question
            .replacingOccurrences(of: "Pick one of the following two choices:\n (A) ", with: "")
            .replacingOccurrences(of: "\n (B) ", with: "\nor\n")
        return PromptSpec(user: user)
    }
}

/// Prompts for the instrumental-lying scenarios.
public enum InstrumentalLyingPrompts {
    /// A/B form: the question block after the answer-only system text.
    public static func ab(_ question: String) -> PromptSpec {
        PromptSpec(system: PaperPromptText.answerOnlyInstruction, user: question)
    }

    /// Open-ended role play; the paper's prompts end in ` [/INST]` with no space after it.
    public static func openEnded(_ scenario: String) -> PromptSpec {
        PromptSpec(user: scenario, paperAnswerSeparator: "")
    }
}
