import Engine
import Experiments
import Foundation

/// CAST on generation: open-ended questions answered under a `caa_conditional` cell's condition, chosen on the A/B
/// validation split and applied unchanged. Each question is read once up to the steering start with the condition
/// block captured; its similarity decides whether the `steer` terms are added while it is answered (greedy), from
/// the steering start on as their position rules say. The questions of the "should steer" and "should not steer"
/// open-ended sets are labelled like the A/B prompts, so the steering rates show whether the A/B condition carries
/// over to free questions.
struct CAAConditionalAnswers {
    /// One open-ended question of a labelled set.
    struct Question {
        var dataset: String
        var index: Int
        var text: String
        var shouldSteer: Bool
    }

    var questions: [Question] = []

    /// The questions of the stage's `open_ended_should_steer` and `open_ended_should_not_steer` sets, at most
    /// `open_ended_max_items` of each.
    init(_ context: StageContext, _ p: CAAConditionalParams) throws {
        for (shouldSteer, names) in [(true, p.openEndedShouldSteer ?? []), (false, p.openEndedShouldNotSteer ?? [])] {
            for name in names {
                let set = try CAAOpenEndedQuestions.load(context, use: name, maxItems: p.openEndedMaxItems)
                questions += set.chosen.map { Question(dataset: name, index: $0, text: set.all[$0], shouldSteer: shouldSteer) }
            }
        }
    }

    /// The answers under `condition`, with each question's similarity and decision, and the steering rates.
    func answer(_ context: StageContext, model: StageModel, format: CAAPromptFormat, condition: SteeringCondition,
                terms: [SteeringTerm], maxNewTokens: Int, cell: SweepCell) throws -> (metrics: [String: Double], generations: [Generation]) {
        let prompts = try questions.map { q -> (tokens: [Int], start: Int) in
            let tokens = format.tokens(question: q.text, answer: nil, systemPrompt: nil, tokenizer: model.tokenizer)
            return (tokens, try format.steeringStart(in: tokens, tokenizer: model.tokenizer))
        }
        var similarities: [Double] = [], results: [GenerationResult] = []
        for start in stride(from: 0, to: prompts.count, by: 8) {
            try context.checkCancellation()
            let batch = prompts[start..<min(start + 8, prompts.count)]
            var prefixes = batch.map {
                ForwardItem(tokens: Array($0.tokens[..<$0.start]), cache: model.network.makeCache(),
                            interventions: [.capture(.block(condition.layer))], logits: .none)
            }
            let captured = model.network.forward(&prefixes).map { $0.capture(at: .block(condition.layer))?.values ?? [] }
            let batchSimilarities = captured.map(condition.similarity(rows:))
            let requests = zip(batch, batchSimilarities).map { prompt, similarity in
                GenerationRequest(prompt: prompt.tokens,
                                  interventions: condition.fires(similarity) ? terms.map { $0.intervention(start: prompt.start, length: prompt.tokens.count) } : [])
            }
            similarities += batchSimilarities
            results += model.network.generate(requests, options: GenerationOptions(maxNewTokens: maxNewTokens, stopTokens: model.tokenizer.stopTokenIDs))
            context.progress("answers", done: results.count, total: prompts.count, status: "condition block \(condition.layer)")
        }
        if results.contains(where: { $0.finishReason == .nonFinite }) || !similarities.allSatisfy(\.isFinite) {
            throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the open-ended answers",
                                 setting: "steering where the condition at block \(condition.layer) fires")
        }
        let fired = similarities.map(condition.fires)
        var metrics: [String: Double] = [:]
        for (label, name) in [(true, "should"), (false, "should_not")] {
            let group = questions.indices.filter { questions[$0].shouldSteer == label }
            guard !group.isEmpty else { continue }
            metrics["open_n_\(name)"] = Double(group.count)
            metrics["open_steer_rate_\(name)"] = Double(group.filter { fired[$0] }.count) / Double(group.count)
        }
        let generations = questions.indices.map { i in
            let text = model.tokenizer.decode(results[i].tokens, skipSpecial: true)
            return Generation(item: i, prompt: format.text(question: questions[i].text, answer: nil, systemPrompt: nil), output: text,
                              meta: .object(["dataset": .string(questions[i].dataset), "question": .int(questions[i].index),
                                             "should_steer": .bool(questions[i].shouldSteer), "similarity": .double(similarities[i]),
                                             "steered": .bool(fired[i]), "tokens": .int(results[i].tokens.count)]))
        }
        return (metrics, generations)
    }
}
