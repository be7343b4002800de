import Engine
import ModelFormats

/// Turns a generated continuation of an evaluation prompt into an `EvaluatedAnswer`: the decoded text, the option
/// its scorer reads, and the logit-based share of option A from the first answer position (when kept). Shared by
/// every place that answers evaluation prompts (plain evaluations and steering sweeps).
public struct AnswerReader: Sendable {
    public var tokenizer: Tokenizer
    private let logitScores: [AnswerScorer: AnswerLogitScore]

    /// A reader for answers to `items` (one logit score per scorer the items use).
    public init(tokenizer: Tokenizer, items: [EvaluationItem]) {
        self.tokenizer = tokenizer
        logitScores = Dictionary(uniqueKeysWithValues: Set(items.map(\.scorer)).map { ($0, AnswerLogitScore(tokenizer: tokenizer, scorer: $0)) })
    }

    public func answer(_ item: EvaluationItem, promptText: String, result: GenerationResult) -> EvaluatedAnswer {
        let output = tokenizer.decode(result.tokens, skipSpecial: true)
        let share = item.scorer == .none ? nil : result.firstLogits.flatMap { logits in logitScores[item.scorer].map { $0.shareOfA(logits: logits) } }
        var answer = EvaluatedAnswer(item: item.item, promptText: promptText, output: output, choice: item.scorer.score(output),
                                     honest: item.honest, shareOfA: share)
        answer.nonFinite = result.finishReason == .nonFinite
        return answer
    }
}
