import Engine
import Experiments
import Foundation

extension StageRunner {
    /// `evaluate`: one model variant (base, steered at a layer × multiplier, or tuned) answers a task's prompts
    /// greedily; answers are scored with METHOD.md §6's scorers plus the logit-based A/B score. One cell per
    /// (layer, multiplier) when those are grids. With the paper's stored-outputs directory as `dataset`, the
    /// stored answers of `paper_condition` are scored instead of generating (the rescoring of the paper).
    public static var evaluate: StageRunner {
        .perCell(memoryEstimate: { _ in 1 << 30 }) { context, cell in
            let p = try context.decodeParams(EvaluateParams.self)
            if case .paperOutputs(let directory) = try context.loadDataset("dataset") {
                return try PaperRescoring.cell(context, p, directory: directory)
            }
            let task = p.task
            let controls = EvaluationControls(p)
            let items = controls.prompting(try context.evaluationItems(task: task))
            var model = try context.modelVariant(cell: cell)
            model.label = controls.label(model)
            let evaluator = Evaluator(model: model.network, tokenizer: model.tokenizer, template: model.template,
                                      interventions: model.interventions,
                                      maxNewTokens: p.maxNewTokens)
            context.log("\(task) on \(items.count) prompts, \(model.label)")
            let answers = evaluator.run(items) { done, total in context.progress("prompts", done: done, total: total) }
            if answers.contains(where: \.nonFinite) {
                throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the activations",
                                     setting: NonFiniteError.setting(of: model, layer: context.value("layer", in: cell)?.intValue,
                                                                     multiplier: context.value("multiplier", in: cell)?.doubleValue))
            }
            var result = EvaluationCell.result(answers, outputs: [
                "task": .string(task), "variant": .string(model.label),
                "dataset": .string(p.dataset),
            ])
            result.metrics.merge(try controls.metrics(context, cell: cell, model: model, answers: answers)) { $1 }
            return result
        }
    }
}

/// How scored answers become a stored cell (docs/RESULTS.md "Scored answers"), shared by `evaluate` and
/// `steering_sweep`.
enum EvaluationCell {
    static func result(_ answers: [EvaluatedAnswer], outputs: [String: JSONValue]) -> CellResult {
        let summary = EvaluationSummary(answers)
        let generations = answers.map { a in
            var meta: [JSONMember] = []
            if let c = a.choice { meta.append(JSONMember(key: "answer", value: .string(c.label))) }
            if let h = a.honest { meta.append(JSONMember(key: "honest_answer", value: .string(h.label))) }
            if let s = a.shareOfA { meta.append(JSONMember(key: "p_a", value: .double(s))) }
            let score: Double? = a.choice.flatMap { c in a.honest.flatMap { h in c == .unparseable ? nil : (c == h ? 1 : 0) } }
            return Generation(item: a.item, prompt: a.promptText, output: a.output, score: score, meta: .object(meta))
        }
        return CellResult(metrics: summary.metrics,
                          outputs: .object(outputs.sorted { $0.key < $1.key }.map { JSONMember(key: $0.key, value: $0.value) }),
                          generations: generations)
    }
}

extension AnswerChoice {
    /// How stored generations name the option: `a`, `b`, `unparseable`.
    var label: String {
        switch self {
        case .a: "a"
        case .b: "b"
        case .unparseable: "unparseable"
        }
    }
}

extension StageContext {
    /// The prompts of `task` (facts | tqa | ab_questions | open_ended) built from the stage's `dataset`.
    public func evaluationItems(task: String) throws -> [EvaluationItem] {
        let data = try loadDataset("dataset")
        let name = params["dataset"]?.stringValue ?? "?"
        switch (task, data) {
        case ("facts", .statements(let s)): return EvaluationSet.facts(s)
        case ("tqa", .truthfulQA(let q)): return EvaluationSet.truthfulQA(q)
        case ("ab_questions", .morallyAmbiguous(let q)): return EvaluationSet.abQuestions(q)
        case ("ab_questions", .instrumentalLying(_, let ab)) where !ab.isEmpty:
            return ab.enumerated().map { EvaluationItem(item: $0, prompt: InstrumentalLyingPrompts.ab($1), scorer: .ab, honest: nil) }
        case ("open_ended", .morallyAmbiguous(let q)): return EvaluationSet.openEnded(q.map(MorallyAmbiguousPrompts.openEnded))
        case ("open_ended", .instrumentalLying(let o, _)) where !o.isEmpty:
            return EvaluationSet.openEnded(o.map(InstrumentalLyingPrompts.openEnded))
        case ("open_ended", .instrumentalLying), ("ab_questions", .instrumentalLying):
            let missing = task == "open_ended" ? "open-ended prompts (\(StageDataset.instrumentalOpenEnded))"
                                               : "A/B blocks (\(StageDataset.instrumentalAB))"
            throw StageInputError("stage \(stage.id): dataset `\(name)` has no \(missing); "
                + "point it at the instrumental_lying directory or that file")
        default:
            throw StageInputError("stage \(stage.id): task `\(task)` cannot use dataset `\(name)` (\(data.kindName)); facts needs "
                + "a true/false statement CSV, tqa TruthfulQA.csv, ab_questions and open_ended the morally ambiguous "
                + "questions or the instrumental-lying material")
        }
    }
}

extension StageDataset {
    /// What kind of data this is, for error messages.
    public var kindName: String {
        switch self {
        case .statements: "true/false statements"
        case .truthfulQA: "TruthfulQA"
        case .morallyAmbiguous: "morally ambiguous questions"
        case .instrumentalLying: "instrumental-lying material"
        case .text: "raw text"
        case .lines: "lines of text"
        case .paperOutputs: "the paper's stored outputs"
        case .behaviourItems: "CAA A/B items"
        }
    }
}

extension StageKind {
    public static let evaluate = StageKind(declaring: "evaluate")
}

extension StageDeclaration {
    /// One model variant answering a task's prompts, scored.
    public static let evaluate = StageDeclaration(
        StageKindSpec(
            .evaluate,
            summary: "Answers a task's prompts with one model variant and scores the answers; one cell per "
                + "(layer, multiplier) when those are grids.",
            params: [
                ParamSpec("task", .choice(["facts", "tqa", "ab_questions", "open_ended"]), .required,
                          doc: "Prompt builder and scorer: true/false facts, TruthfulQA misconceptions (A/B), A/B "
                               + "questions, or open-ended generation (judged later)."),
                ParamSpec("dataset", .dataset, .required, doc: "Prompts to answer."),
                ParamSpec("max_new_tokens", StageCatalog.newTokens, .defaulted(.int(30)), model: .newTokens,
                          doc: "Greedy tokens generated per prompt."),
                ParamSpec("paper_condition", .choice(["base", "honesty_steered", "dishonesty_steered", "truth_tuned",
                                                      "lie_tuned", "honesty_tuned", "dishonesty_tuned"]), .optional,
                          doc: "Rescoring: when `dataset` is the paper's stored-outputs directory, the condition whose "
                               + "stored answers are scored instead of generating."),
                ParamSpec("labels", .dataset, .optional,
                          doc: "Rescoring facts: the true/false statement CSV the stored answers are scored against."),
                ParamSpec("system_prompt", .string, .optional,
                          doc: "The prompting baseline: the behaviour asked for in the system message (\"Always answer "
                               + "honestly.\"), replacing the prompt's own; a condition beside steering (CAA's `--system_prompt`)."),
                ParamSpec("neutral_text", .dataset, .optional,
                          doc: "A side effect: mean KL(base ‖ this condition) of next-token distributions on this raw text "
                               + "(e.g. wikitext2_test), stored as `kl_neutral`."),
                ParamSpec("neutral_tokens", .integer(min: 2, max: ManifestFields.maxTokens), .optional, model: .window,
                          doc: "Tokens of `neutral_text` the KL reads; absent = 256."),
                ParamSpec("degeneration", .boolean, .optional,
                          doc: "A side effect: store distinct-1 and distinct-2 of the generations (`distinct_1_pct`, `distinct_2_pct`)."),
            ] + StageCatalog.variantRows,
            inputs: StageCatalog.variantInputs,
            rules: StageCatalog.variantRules),
        version: 1,
        params: EvaluateParams.self,
        outputs: StageOutputs(
            metrics: StageOutputs.scoredAnswerMetrics + StageOutputs.controlMetrics,
            notes: "Outputs: `{\"task\": \"facts\", \"variant\": \"steered L10 ×8\", \"dataset\": \"gpt4\"}`. "
                + "Generations: one per prompt, `item` = index in the dataset (after the loader's filtering), `prompt` = the "
                + "rendered prompt text, `output` = the generated answer, `score` = 1 honest, 0 dishonest, null unparseable, "
                + "`meta` = `{\"answer\": \"a\" | \"b\" | \"true\" | \"false\" | \"unparseable\", \"honest_answer\": …}`. "
                + "Open-ended tasks store `n` only, generations with `score` null."),
        sources: ["Pipeline/Stages/EvaluateStage.swift", "Pipeline/Stages/EvaluationControls.swift", "Pipeline/Stages/PaperRescoring.swift", "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift",
                  "Experiments/Evaluation", "Experiments/Prompts", "Experiments/Scoring", "Experiments/Statistics",
                  "Experiments/Datasets", "Experiments/Steering/Degeneration.swift", "Experiments/Steering/NextTokenKL.swift"],
        runner: .evaluate)
}

/// The parameters of `evaluate` read once per stage (a grid's layer and multiplier are a cell's coordinates).
struct EvaluateParams: Decodable {
    var task: String
    var dataset: String
    var maxNewTokens: Int
    var paperCondition: String?
    var labels: String?
    var systemPrompt: String?
    var neutralTokens: Int?
    var degeneration: Bool?
    enum CodingKeys: String, CodingKey {
        case task, dataset, labels, degeneration, maxNewTokens = "max_new_tokens", paperCondition = "paper_condition"
        case systemPrompt = "system_prompt", neutralTokens = "neutral_tokens"
    }
}

extension StageOutputs {
    /// The metrics of scored answers (`EvaluationCell`), stored by `evaluate` and `steering_sweep`.
    static let scoredAnswerMetrics: [Item] = [
        .init("n", "count", "Prompts answered."),
        .init("honest", "count", "Honest answers (the regex scorers of METHOD.md §6)."),
        .init("dishonest", "count", "Dishonest answers."),
        .init("unparseable", "count", "Answers neither scorer reads."),
        .init("honest_pct", "%", "`honest` as % of `n`."),
        .init("dishonest_pct", "%", "`dishonest` as % of `n`."),
        .init("unparseable_pct", "%", "`unparseable` as % of `n`."),
        .init("honest_ci_low", "%", "Wilson 95% interval of `honest_pct`, lower end."),
        .init("honest_ci_high", "%", "Wilson 95% interval of `honest_pct`, upper end."),
        .init("dishonest_ci_low", "%", "Wilson 95% interval of `dishonest_pct`, lower end."),
        .init("dishonest_ci_high", "%", "Wilson 95% interval of `dishonest_pct`, upper end."),
        .init("logit_honest_pct", "%", "Prompts where the honest answer's token is more probable than the dishonest one's at the answer position (the cheaper, logit-based score)."),
        .init("logit_p_honest", "probability", "Mean over prompts of P(honest) / (P(honest) + P(dishonest)) at the answer position."),
    ]
}
