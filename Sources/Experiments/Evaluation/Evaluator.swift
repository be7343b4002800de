import Engine
import Foundation
import ModelFormats

/// One answered evaluation prompt: the rendered prompt, the generated text, what the scorer read and, for
/// A/B-style prompts, the logit-based share of option A at the first answer position.
public struct EvaluatedAnswer: Sendable, Equatable {
    public var item: Int
    public var promptText: String
    public var output: String
    /// The option the scorer read; nil when the item is open-ended.
    public var choice: AnswerChoice?
    public var honest: AnswerChoice?
    /// P(A) / (P(A) + P(B)) at the first answer position; nil for open-ended items.
    public var shareOfA: Double?
    /// The generation stopped because its logits were not finite (`GenerationResult.FinishReason.nonFinite`): the
    /// answer is no answer, and a stage storing it must fail the cell instead.
    public var nonFinite = false

    public init(item: Int, promptText: String, output: String, choice: AnswerChoice?, honest: AnswerChoice?, shareOfA: Double?) {
        self.item = item
        self.promptText = promptText
        self.output = output
        self.choice = choice
        self.honest = honest
        self.shareOfA = shareOfA
    }

    /// P(honest option) / (P(A) + P(B)); nil without a label or a logit score.
    public var shareOfHonest: Double? {
        guard let s = shareOfA, let h = honest, h != .unparseable else { return nil }
        return h == .a ? s : 1 - s
    }
}

/// Greedy answers of a model (with optional interventions) to evaluation prompts, batched, and their scores.
public struct Evaluator: Sendable {
    public var model: LlamaModel
    public var tokenizer: Tokenizer
    public var template: ChatTemplate
    public var interventions: [Intervention]
    public var maxNewTokens: Int
    public var batchSize: Int

    public init(model: LlamaModel, tokenizer: Tokenizer, template: ChatTemplate, interventions: [Intervention] = [],
                maxNewTokens: Int, batchSize: Int = 16) {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.interventions = interventions
        self.maxNewTokens = maxNewTokens
        self.batchSize = batchSize
    }

    /// Answers every item (in order); `progress` gets (items done, total) after each batch.
    public func run(_ items: [EvaluationItem], progress: (Int, Int) -> Void = { _, _ in }) -> [EvaluatedAnswer] {
        run(items, continuing: []) { answers in if !answers.isEmpty { progress(answers.count, items.count) } }
    }

    /// The same, continuing from `earlier` — the answers to the first items, a whole number of batches, as an
    /// interrupted run saved them — with the batches cut as in an uninterrupted run. `beforeBatch` gets the answers so
    /// far before every batch and once at the end; it may throw to stop (after saving them).
    public func run(_ items: [EvaluationItem], continuing earlier: [EvaluatedAnswer],
                    beforeBatch: ([EvaluatedAnswer]) throws -> Void) rethrows -> [EvaluatedAnswer] {
        var answers = earlier
        answers.reserveCapacity(items.count)
        let reader = AnswerReader(tokenizer: tokenizer, items: items)
        let options = GenerationOptions(maxNewTokens: maxNewTokens, stopTokens: tokenizer.stopTokenIDs,
                                        keepFirstLogits: items.contains { $0.scorer != .none })
        for start in stride(from: answers.count, to: items.count, by: max(1, batchSize)) {
            try beforeBatch(answers)
            let batch = Array(items[start..<min(start + batchSize, items.count)])
            let texts = batch.map { $0.prompt.render(template) }
            let requests = batch.map { GenerationRequest(prompt: $0.prompt.tokens(tokenizer, template: template), interventions: interventions) }
            let results = model.generate(requests, options: options)
            for ((item, text), result) in zip(zip(batch, texts), results) {
                answers.append(reader.answer(item, promptText: text, result: result))
            }
        }
        try beforeBatch(answers)
        return answers
    }
}

/// The numbers of one evaluation (docs/RESULTS.md): counts and percentages of honest / dishonest / unparseable
/// answers with Wilson 95% intervals when items are labelled, A/B shares otherwise, and the logit-based scores.
public struct EvaluationSummary: Sendable, Equatable {
    public var count: Int
    public var tally: HonestyTally?
    public var metrics: [String: Double]

    public init(_ answers: [EvaluatedAnswer]) {
        count = answers.count
        var m: [String: Double] = ["n": Double(answers.count)]
        let labelled = answers.filter { $0.honest != nil && $0.choice != nil }
        if !labelled.isEmpty {
            var t = HonestyTally()
            for a in labelled { t.add(a.choice!, correct: a.honest!) }
            tally = t
            let hi = t.honestInterval(), di = t.dishonestInterval()
            m["honest"] = Double(t.honest)
            m["dishonest"] = Double(t.dishonest)
            m["unparseable"] = Double(t.unparseable)
            m["honest_pct"] = t.honestPercent
            m["dishonest_pct"] = t.dishonestPercent
            m["unparseable_pct"] = t.unparseablePercent
            m["honest_ci_low"] = hi.lower * 100
            m["honest_ci_high"] = hi.upper * 100
            m["dishonest_ci_low"] = di.lower * 100
            m["dishonest_ci_high"] = di.upper * 100
            let shares = labelled.compactMap(\.shareOfHonest)
            if !shares.isEmpty {
                m["logit_honest_pct"] = 100 * Double(shares.filter { $0 > 0.5 }.count) / Double(shares.count)
                m["logit_p_honest"] = shares.reduce(0, +) / Double(shares.count)
            }
        } else {
            tally = nil
            let scored = answers.compactMap(\.choice)
            if !scored.isEmpty {
                let n = Double(scored.count)
                m["a_pct"] = 100 * Double(scored.filter { $0 == .a }.count) / n
                m["b_pct"] = 100 * Double(scored.filter { $0 == .b }.count) / n
                m["unparseable_pct"] = 100 * Double(scored.filter { $0 == .unparseable }.count) / n
                let shares = answers.compactMap(\.shareOfA)
                if !shares.isEmpty { m["logit_p_a"] = shares.reduce(0, +) / Double(shares.count) }
            }
        }
        metrics = m
    }
}
