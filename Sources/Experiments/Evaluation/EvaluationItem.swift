/// One prompt of an evaluation: which dataset row it came from, the prompt, the scorer that reads its answer and
/// the honest option when the dataset labels one (facts, TruthfulQA).
public struct EvaluationItem: Sendable, Equatable {
    /// Row of the dataset (after the loader's filtering and the split).
    public var item: Int
    public var prompt: PromptSpec
    public var scorer: AnswerScorer
    /// The honest option; nil for unlabelled A/B questions and open-ended prompts.
    public var honest: AnswerChoice?

    public init(item: Int, prompt: PromptSpec, scorer: AnswerScorer, honest: AnswerChoice?) {
        self.item = item
        self.prompt = prompt
        self.scorer = scorer
        self.honest = honest
    }
}

/// Which of METHOD.md §6's scorers reads an answer: the true/false scorer (GPT-4 facts), the A/B scorer
/// (TruthfulQA, morally ambiguous and instrumental A/B questions), or none (open-ended text, judged later).
public enum AnswerScorer: String, Sendable, Equatable, Codable {
    case trueFalse = "true_false"
    case ab
    case none

    /// The option an answer chose; nil for `none`.
    public func score(_ answer: String) -> AnswerChoice? {
        switch self {
        case .trueFalse: TrueFalseAnswerScorer.score(answer)
        case .ab: ABAnswerScorer.score(answer)
        case .none: nil
        }
    }
}

/// The prompt sets of the paper's evaluations (METHOD.md §2, §6), one `EvaluationItem` per dataset row.
public enum EvaluationSet {
    /// True/false statements: the facts prompt; A (True) is honest for a true statement.
    public static func facts(_ statements: [TrueFalseStatement]) -> [EvaluationItem] {
        statements.enumerated().map {
            EvaluationItem(item: $0, prompt: FactsPrompts.evaluation($1.text), scorer: .trueFalse, honest: $1.honestChoice)
        }
    }

    /// TruthfulQA misconceptions: the correct answer is option A for even items, B for odd ones.
    public static func truthfulQA(_ items: [TruthfulQAItem]) -> [EvaluationItem] {
        items.enumerated().map {
            EvaluationItem(item: $0, prompt: TruthfulQAPrompts.evaluation($1, index: $0), scorer: .ab,
                           honest: TruthfulQAMisconceptions.correctChoice(at: $0))
        }
    }

    /// Unlabelled A/B questions (morally ambiguous, instrumental lying) after the answer-only instruction.
    public static func abQuestions(_ questions: [String]) -> [EvaluationItem] {
        questions.enumerated().map {
            EvaluationItem(item: $0, prompt: MorallyAmbiguousPrompts.ab($1), scorer: .ab, honest: nil)
        }
    }

    /// Open-ended prompts (already built), unscored.
    public static func openEnded(_ prompts: [PromptSpec]) -> [EvaluationItem] {
        prompts.enumerated().map { EvaluationItem(item: $0, prompt: $1, scorer: .none, honest: nil) }
    }
}
