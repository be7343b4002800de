import Engine
import Experiments
import Foundation
import ModelFormats

/// The controls an `evaluate` condition can carry beside its honesty scores, each opt-in by a parameter so that
/// conditions without them keep their stage keys: the prompting baseline (`system_prompt`: the behaviour asked for
/// in the system message instead of steered), KL(base ‖ condition) of next-token distributions on neutral text
/// (`neutral_text`), and the degeneration of the condition's generations (`degeneration`: distinct-1/-2).
struct EvaluationControls {
    let systemPrompt: String?
    let neutralTokens: Int
    let degeneration: Bool

    /// Neutral-text tokens scored when `neutral_tokens` is absent.
    static let defaultNeutralTokens = 256

    init(_ p: EvaluateParams) {
        systemPrompt = p.systemPrompt
        neutralTokens = p.neutralTokens ?? Self.defaultNeutralTokens
        degeneration = p.degeneration ?? false
    }

    /// The items with the system message replaced by `system_prompt` (unchanged without one).
    func prompting(_ items: [EvaluationItem]) -> [EvaluationItem] {
        guard let systemPrompt else { return items }
        return items.map { var item = $0; item.prompt.system = systemPrompt; return item }
    }

    /// The condition's label with its system prompt, as tables show it.
    func label(_ model: StageModel) -> String {
        guard let systemPrompt else { return model.label }
        let short = systemPrompt.count > 40 ? String(systemPrompt.prefix(37)) + "…" : systemPrompt
        return (model.label == "base" ? "" : model.label + " ") + "prompted \"\(short)\""
    }

    /// The metrics the controls add: `kl_neutral` (mean KL(base ‖ condition) over the neutral text's next-token
    /// distributions; a prompted condition reads the text after its system message), `distinct_1_pct`, `distinct_2_pct`.
    func metrics(_ context: StageContext, cell: SweepCell, model: StageModel, answers: [EvaluatedAnswer]) throws -> [String: Double] {
        var out: [String: Double] = [:]
        if degeneration {
            for n in [1, 2] {
                let ratios = answers.compactMap { Degeneration($0.output, n: n).distinctRatio }
                if !ratios.isEmpty { out["distinct_\(n)_pct"] = 100 * ratios.reduce(0, +) / Double(ratios.count) }
            }
        }
        guard context.params["neutral_text"]?.stringValue != nil else { return out }
        guard case .text(let text) = try context.loadDataset("neutral_text") else {
            throw StageInputError("stage \(context.stage.id): params.neutral_text must be a raw text dataset (e.g. wikitext2_test)")
        }
        let tokens = PerplexityText.tokens(text.joined(), tokenizer: model.tokenizer, budget: neutralTokens)
        let neutral = Array(tokens.prefix(neutralTokens))
        let prefix = systemPrompt.map { model.tokenizer.encode(model.template.render([.system($0)], addGenerationPrompt: false)) } ?? []
        let base = try context.baseModel().network
        func logits(_ network: LlamaModel, _ prefix: [Int], _ interventions: [Intervention]) -> [Float] {
            var items = [ForwardItem(tokens: prefix + neutral, cache: network.makeCache(), interventions: interventions,
                                     logits: .from(prefix.count))]
            return network.forward(&items)[0].logits
        }
        let kl = NextTokenKL.mean(base: logits(base, [], []), steered: logits(model.network, prefix, model.interventions),
                                  vocabulary: model.network.config.vocabularySize)
        guard kl.isFinite else {
            throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the KL on neutral text", setting: "running the \(model.label) model")
        }
        out["kl_neutral"] = kl
        out["kl_neutral_tokens"] = Double(neutral.count)
        return out
    }
}

extension StageOutputs {
    /// The metrics of `EvaluationControls`, stored only when their parameters ask for them.
    static let controlMetrics: [Item] = [
        .init("kl_neutral", "nats", "With `neutral_text`: mean KL(base ‖ this condition) of the next-token distributions over the neutral text (a prompted condition reads it after its system message)."),
        .init("kl_neutral_tokens", "count", "With `neutral_text`: positions the KL is averaged over."),
        .init("distinct_1_pct", "%", "With `degeneration`: mean distinct-1 of the generations (share of words that differ; lower = more repetitive)."),
        .init("distinct_2_pct", "%", "With `degeneration`: mean distinct-2 of the generations."),
    ]
}
