import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// `caa_conditional`: conditional activation steering (CAST) on CAA's A/B prompts. One cell per condition
    /// layer: every prompt of the "should steer" and "should not steer" sets, on the validation and the test split,
    /// is read once unsteered up to the steering start with the output of the condition block captured, then
    /// scored unsteered and with the `steer` terms. The condition's similarity is cos(mean residual over the prompt's
    /// tokens, condition vector) (`SteeringCondition`), the residual centred on the validation prompts' mean unless
    /// `centre` is false; the threshold is chosen on the validation split
    /// (`ThresholdSearch`) and applied unchanged to the test split, where a prompt takes its steered score only when
    /// the condition fires. The effect of steering is reported separately for the prompts steered and those held back.
    /// With open-ended sets, the cell's condition also decides which of their questions are answered steered
    /// (`CAAConditionalAnswers`).
    public static var caaConditional: StageRunner {
        StageRunner(memoryEstimate: { _ in 1 << 30 }) { context in
            let p = try context.decodeParams(CAAConditionalParams.self)
            let model = try context.baseModel()
            let vectors = try CAAStageData.vectors(context)
            let width = model.network.config.embeddingLength
            let terms = try SteerEntry.terms(p.steer, vectors: vectors, width: width, stage: context.stage.id)
            let format = CAAStageData.format(context, p.format, model: model)
            let sets = try CAAConditionalSets(context, p, format: format, model: model)
            let openEnded = try CAAConditionalAnswers(context, p)
            let scorer = try CAAABScorer(model: model.network, tokenizer: model.tokenizer)
            while let cell = try context.nextCells(1).first {
                guard let layer = cell["condition_layer"]?.intValue else {
                    throw StageInputError("stage \(context.stage.id): cell \(cell.index) has no condition_layer")
                }
                var means: [[Double]] = [], probabilities: [[MatchingProbability?]] = []
                for start in stride(from: 0, to: sets.prompts.count, by: p.promptsPerBatch) {
                    try context.checkCancellation()
                    let batch = Array(sets.prompts[start..<min(start + p.promptsPerBatch, sets.prompts.count)])
                    let scores = scorer.score(batch.map(\.prompt), variants: [nil, CAAABScorer.Steering(terms: terms)], capturing: layer)
                    means += scores.captures.map { SteeringCondition.tokenMean(rows: $0, width: width) }
                    probabilities += scores.probabilities
                    context.progress("prompts", done: means.count, total: sets.prompts.count, status: "condition block \(layer)")
                }
                guard probabilities.allSatisfy({ $0.allSatisfy { $0 != nil } }) else {
                    try context.fail(cell, NonFiniteError(stage: context.stage.id, cells: [cell], what: "the logits",
                                                          setting: "steering with \(SteerEntry.label(p.steer)) (multiplier as given)"))
                    continue
                }
                let outcome = try CAAConditionalOutcome(context, p, sets: sets, layer: layer, width: width, vectors: vectors, means: means,
                                                        unsteered: probabilities.map { $0[0]!.normalised },
                                                        steered: probabilities.map { $0[1]!.normalised })
                context.log("condition block \(layer): threshold \(PythonNumber.format(outcome.search.chosen.threshold)) "
                            + "(\(p.selectBy) \(PythonNumber.format(outcome.search.chosen.score)) on \(p.validationSplit))")
                var result = outcome.result(p)
                if !openEnded.questions.isEmpty {
                    let answers = try openEnded.answer(context, model: model, format: format,
                                                       condition: outcome.condition, terms: terms, maxNewTokens: p.maxNewTokens, cell: cell)
                    result.metrics.merge(answers.metrics) { $1 }
                    result.generations = answers.generations
                }
                try context.commit(cell, result)
            }
        }
    }
}

/// The labelled prompts of a `caa_conditional` stage: each "should steer" and "should not steer" set on the
/// validation and the test split, in that order, A/B items only.
struct CAAConditionalSets {
    struct Entry {
        var prompt: CAAABScorer.Prompt
        var validation: Bool
        var shouldSteer: Bool
        var dataset: String
        var item: Int
    }

    var prompts: [Entry] = []

    init(_ context: StageContext, _ p: CAAConditionalParams, format: CAAPromptFormat, model: StageModel) throws {
        for (validation, split) in [(true, p.validationSplit), (false, p.testSplit)] {
            for (shouldSteer, param, names) in [(true, "should_steer", p.shouldSteer), (false, "should_not_steer", p.shouldNotSteer)] {
                for (i, name) in names.enumerated() {
                    let use = DatasetUse(parsing: name)
                    guard use.split == nil else {
                        throw StageInputError("stage \(context.stage.id): params.\(param)[\(i)]: name the dataset without a split "
                            + "(\"\(use.dataset)\"): the stage reads its `\(p.validationSplit)` and `\(p.testSplit)` splits")
                    }
                    if let ref = context.datasets.first(where: { $0.name == use.dataset }), ref.split(split) == nil {
                        throw StageInputError("stage \(context.stage.id): params.\(param)[\(i)]: dataset \(use.dataset) declares no split \"\(split)\" "
                            + "(it declares \(ref.splits.isEmpty ? "none" : ref.splits.map(\.name).joined(separator: ", "))); the stage reads the "
                            + "validation split `\(p.validationSplit)` and the test split `\(p.testSplit)` of every set")
                    }
                    let items = try CAAStageData.items(context, use: "\(use.dataset):\(split)").items.filter(\.isAB)
                    for item in p.maxItems.map({ Array(items.prefix($0)) }) ?? items {
                        let prompt = try CAAStageData.abPrompt(context, item, format: format, systemPrompt: nil, model: model,
                                                               source: "\(use.dataset):\(split)")
                        prompts.append(Entry(prompt: prompt, validation: validation, shouldSteer: shouldSteer, dataset: use.dataset, item: item.index))
                    }
                }
            }
        }
        for (validation, split) in [(true, p.validationSplit), (false, p.testSplit)] {
            for label in [true, false] where !prompts.contains(where: { $0.validation == validation && $0.shouldSteer == label }) {
                throw StageInputError("stage \(context.stage.id): the \(split) split has no A/B prompt that \(label ? "should" : "should not") be steered")
            }
        }
    }
}

/// One cell's numbers: the condition, the threshold chosen on the validation split, and each split's decisions
/// and A/B scores.
struct CAAConditionalOutcome {
    var condition: SteeringCondition
    var conditionSource: String
    var search: ThresholdSearch
    var similarities: [Double]
    var fired: [Bool]
    var sets: CAAConditionalSets
    var unsteered: [Double]
    var steered: [Double]

    init(_ context: StageContext, _ p: CAAConditionalParams, sets: CAAConditionalSets, layer: Int, width: Int,
         vectors: [String: [Int: [Float]]], means: [[Double]], unsteered: [Double], steered: [Double]) throws {
        let entries = sets.prompts
        let validation = entries.indices.filter { entries[$0].validation }
        let vector: [Float]
        if let name = p.conditionVector {
            guard let v = vectors[name]?[layer] else {
                throw StageInputError("stage \(context.stage.id): params.condition_vector: the vectors input has no \"\(name)\" vector at block \(layer) "
                    + "(behaviours: \(vectors.keys.sorted().joined(separator: ", ")); blocks of \(name): \(vectors[name]?.keys.sorted() ?? []))")
            }
            vector = v
            conditionSource = name
        } else {
            vector = SteeringCondition.meanDifference(steer: validation.filter { entries[$0].shouldSteer }.map { means[$0] },
                                                      keep: validation.filter { !entries[$0].shouldSteer }.map { means[$0] })
            conditionSource = "mean_difference"
        }
        // Centred: each prompt's mean residual less the validation prompts' mean (both sets), fixed on the validation split.
        let centre = p.centre ? SteeringCondition.mean(validation.map { means[$0] }) : nil
        do {
            let similarities = means.map { SteeringCondition.similarity(mean: $0, vector: vector, centre: centre) }
            search = try ThresholdSearch(similarities: validation.map { similarities[$0] }, labels: validation.map { entries[$0].shouldSteer },
                                         thresholds: p.thresholds, comparator: p.comparatorValue, metric: p.metric)
            condition = try SteeringCondition(layer: layer, vector: vector, width: width, comparator: p.comparatorValue,
                                              threshold: search.chosen.threshold, centre: centre)
            self.similarities = similarities
            fired = similarities.map(condition.fires)
        } catch let problem as SteeringCondition.Problem {
            throw StageInputError("stage \(context.stage.id): condition at block \(layer) (\(conditionSource)): \(problem)")
        }
        self.sets = sets
        self.unsteered = unsteered
        self.steered = steered
    }

    func result(_ p: CAAConditionalParams) -> CellResult {
        let entries = sets.prompts
        var metrics: [String: Double] = ["threshold": search.chosen.threshold, "validation_score": search.chosen.score,
                                         "condition_layer": Double(condition.layer)]
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        for (validation, prefix) in [(true, "val"), (false, "test")] {
            let rows = entries.indices.filter { entries[$0].validation == validation }
            let confusion = ThresholdSearch.Confusion(fired: rows.map { fired[$0] }, labels: rows.map { entries[$0].shouldSteer })
            metrics["\(prefix)_f1"] = confusion.f1
            metrics["\(prefix)_accuracy"] = confusion.accuracy
            for (label, name) in [(true, "should"), (false, "should_not")] {
                let group = rows.filter { entries[$0].shouldSteer == label }
                metrics["\(prefix)_steer_rate_\(name)"] = mean(group.map { fired[$0] ? 1 : 0 })
                guard !validation else { continue }
                metrics["p_conditional_\(name)"] = mean(group.map { fired[$0] ? steered[$0] : unsteered[$0] })
                metrics["p_unsteered_\(name)"] = mean(group.map { unsteered[$0] })
                metrics["p_always_steered_\(name)"] = mean(group.map { steered[$0] })
            }
            guard !validation else { continue }
            for (on, name) in [(true, "steered"), (false, "held_back")] {
                let group = rows.filter { fired[$0] == on }
                metrics["n_\(name)"] = Double(group.count)
                metrics["effect_\(name)"] = mean(group.map { steered[$0] - unsteered[$0] })
            }
        }
        let grid: [JSONValue] = search.rows.map { row in
            .object(["threshold": .double(row.threshold), "score": .double(row.score), "tp": .int(row.confusion.truePositives),
                     "fp": .int(row.confusion.falsePositives), "tn": .int(row.confusion.trueNegatives), "fn": .int(row.confusion.falseNegatives)])
        }
        let items: [JSONValue] = entries.indices.map { i in
            .object(["split": .string(entries[i].validation ? p.validationSplit : p.testSplit), "dataset": .string(entries[i].dataset),
                     "item": .int(entries[i].item), "should_steer": .bool(entries[i].shouldSteer), "similarity": .double(similarities[i]),
                     "steered": .bool(fired[i]), "p_unsteered": .double(unsteered[i]), "p_steered": .double(steered[i])])
        }
        let outputs: JSONValue = .object([
            "condition": .object(["layer": .int(condition.layer), "vector": .string(conditionSource), "comparator": .string(condition.comparator.rawValue),
                                  "centred": .bool(p.centre), "threshold": .double(condition.threshold), "select_by": .string(p.selectBy), "rule": .string(search.rule)]),
            "grid": .array(grid), "items": .array(items), "steer": SteerEntry.json(p.steer), "format": .string(p.format),
        ])
        return CellResult(metrics: metrics.filter { $0.value.isFinite }, outputs: outputs)
    }
}

extension StageKind {
    public static let caaConditional = StageKind(declaring: "caa_conditional")
}

extension StageDeclaration {
    /// Conditional activation steering (CAST, Lee et al. 2024) on CAA's A/B prompts.
    public static let caaConditional = StageDeclaration(
        StageKindSpec(
            .caaConditional,
            summary: "Conditional steering (CAST): the `steer` vectors are added to a prompt only when cos(mean residual at the "
                + "condition block, condition vector) passes a threshold chosen on a validation split of prompts labelled "
                + "should / should not steer; reported on the held-out split, and on open-ended questions answered steered where "
                + "the condition fires (optional). One cell per condition block.",
            params: [
                SteerEntry.param("The behaviour vectors applied where the condition fires, each with its own blocks, positions and "
                                 + "multiplier.", presence: .required),
                ParamSpec("condition_layer", StageCatalog.block, .required, axis: "condition_layer", model: .block,
                          doc: "Blocks whose output the condition reads (over the prompt's tokens up to the steering start), a grid."),
                ParamSpec("condition_vector", .string, .optional,
                          doc: "A behaviour of the `vectors` input whose vector at the condition block is the condition; absent = "
                               + "the mean difference of the should-steer and should-not-steer prompts' mean residuals on the validation split."),
                ParamSpec("centre", .boolean, .defaulted(.bool(true)),
                          doc: "Take the cosine of each prompt's mean residual less the validation prompts' mean (both sets; applied "
                               + "unchanged to the test split). The residual stream's large shared component otherwise puts every prompt's "
                               + "cosine in a narrow band (measured on SmolLM2: within a few hundredths of one value). false = CAST's raw cosine."),
                ParamSpec("should_steer", .list(.dataset), .required,
                          doc: "CAA A/B sets whose prompts should be steered (names without a split; each must declare both splits)."),
                ParamSpec("should_not_steer", .list(.dataset), .required, doc: "CAA A/B sets whose prompts should be left alone."),
                ParamSpec("validation_split", .string, .defaulted(.string("val")), doc: "The split the threshold (and a mean-difference condition) is chosen on."),
                ParamSpec("test_split", .string, .defaulted(.string("test")), doc: "The held-out split the chosen threshold is reported on."),
                ParamSpec("thresholds", .list(.number(min: -1, max: 1)), .required,
                          doc: "Cosine thresholds tried on the validation split (finite, in -1...1)."),
                ParamSpec("comparator", .choice(SteeringCondition.Comparator.allCases.map(\.rawValue)), .defaulted(.string(">=")),
                          doc: "Steer when the similarity is `>=` or `<=` the threshold."),
                ParamSpec("select_by", .choice(ThresholdSearch.Metric.allCases.map(\.rawValue)), .defaulted(.string("f1")),
                          doc: "What a threshold is scored by on the validation split: F1 of \"should steer\" or accuracy; ties to the first listed."),
                ParamSpec("format", .choice(CAAPromptFormat.names), .defaulted(.string("llama2-paper")),
                          doc: "`llama2-paper` (`[INST] q [/INST] (`, BOS added) or `chat` (the model's template)."),
                ParamSpec("max_items", .integer(min: 1, max: ManifestFields.maxTokens), .optional,
                          doc: "Use only the first N A/B items of each set and split; absent = all."),
                ParamSpec("prompts_per_batch", StageCatalog.batch, .defaulted(.int(8)), doc: "Prompts scored together."),
                ParamSpec("open_ended_should_steer", .list(.dataset), .optional,
                          doc: "CAA open-ended sets (a list of {question}) whose questions should be steered: each cell answers them "
                               + "(greedy), steered where its condition fires — the threshold chosen on the A/B validation split, unchanged."),
                ParamSpec("open_ended_should_not_steer", .list(.dataset), .optional,
                          doc: "Open-ended sets whose questions should be left alone, answered the same way."),
                ParamSpec("open_ended_max_items", .integer(min: 1, max: ManifestFields.maxTokens), .optional,
                          doc: "Answer only the first N questions of each open-ended set (of its split, if named)."),
                ParamSpec("max_new_tokens", StageCatalog.newTokens, .defaulted(.int(48)), model: .newTokens,
                          doc: "Greedy tokens per open-ended answer."),
            ],
            inputs: [InputSpec("vectors", accepts: [.caaVectors], required: true, doc: "The behaviour vectors (and the condition's, if named).")]),
        version: 1,
        params: CAAConditionalParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("threshold", "cosine", "The threshold chosen on the validation split."),
                .init("validation_score", "fraction", "Its validation F1 or accuracy (`select_by`)."),
                .init("condition_layer", "block", "The block the condition reads."),
                .init("val_f1", "fraction", "F1 of the condition's decisions on the validation split (should steer = positive)."),
                .init("val_accuracy", "fraction", "Their accuracy on the validation split."),
                .init("val_steer_rate_should", "fraction", "Validation prompts that should be steered and were."),
                .init("val_steer_rate_should_not", "fraction", "Validation prompts that should not be steered but were."),
                .init("test_f1", "fraction", "F1 on the held-out split."),
                .init("test_accuracy", "fraction", "Accuracy on the held-out split."),
                .init("test_steer_rate_should", "fraction", "Held-out prompts that should be steered and were."),
                .init("test_steer_rate_should_not", "fraction", "Held-out prompts that should not be steered but were."),
                .init("p_conditional_should", "probability", "Held-out should-steer prompts: mean P(matching) under conditional steering."),
                .init("p_unsteered_should", "probability", "The same prompts unsteered."),
                .init("p_always_steered_should", "probability", "The same prompts always steered."),
                .init("p_conditional_should_not", "probability", "Held-out should-not-steer prompts: mean P(matching) under conditional steering."),
                .init("p_unsteered_should_not", "probability", "The same prompts unsteered."),
                .init("p_always_steered_should_not", "probability", "The same prompts always steered."),
                .init("n_steered", "count", "Held-out prompts the condition steered."),
                .init("n_held_back", "count", "Held-out prompts it left alone."),
                .init("effect_steered", "probability", "Mean P(matching) steered − unsteered over the held-out prompts steered (absent when none)."),
                .init("effect_held_back", "probability", "The same over the prompts held back: what steering would have done there (absent when none)."),
                .init("open_n_should", "count", "Open-ended questions that should be steered (with `open_ended_should_steer`)."),
                .init("open_steer_rate_should", "fraction", "Those the condition steered."),
                .init("open_n_should_not", "count", "Open-ended questions that should be left alone (with `open_ended_should_not_steer`)."),
                .init("open_steer_rate_should_not", "fraction", "Those the condition steered nevertheless."),
            ],
            notes: "One cell per condition block. P(matching) is each item's own behaviour's, normalised over P(A) + P(B). Outputs: "
                + "`{\"condition\": {\"layer\", \"vector\" (a behaviour or \"mean_difference\"), \"comparator\", \"centred\", \"threshold\", \"select_by\", \"rule\"}, "
                + "\"grid\": [{\"threshold\", \"score\", \"tp\", \"fp\", \"tn\", \"fn\"}…] (validation), \"items\": [{\"split\", \"dataset\", \"item\", "
                + "\"should_steer\", \"similarity\", \"steered\", \"p_unsteered\", \"p_steered\"}…], \"steer\": […], \"format\"}`. With open-ended "
                + "sets, the answers are stored as generations (`item` = the question's index in the cell; `meta`: dataset, question, "
                + "should_steer, similarity, steered, tokens)."),
        sources: ["Pipeline/Stages/CAAConditionalStage.swift", "Pipeline/Stages/CAAConditionalAnswers.swift", "Pipeline/Stages/CAAOpenEndedStage.swift",
                  "Pipeline/Stages/SteerParam.swift", "Pipeline/Stages/CAAStageData.swift",
                  "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/NonFiniteError.swift", "Experiments/CAA", "Experiments/Conditional",
                  "Experiments/Steering/SteeringTerm.swift", "Experiments/Scoring/ExactLogSumExp.swift", "Experiments/Vectors/Cosine.swift"],
        runner: .caaConditional)
}

/// The parameters of `caa_conditional` read once per stage (the condition block is a cell's coordinate).
struct CAAConditionalParams: Decodable {
    var steer: [SteerEntry]
    var conditionVector: String?
    var centre: Bool
    var shouldSteer: [String]
    var shouldNotSteer: [String]
    var validationSplit: String
    var testSplit: String
    var thresholds: [Double]
    var comparator: String
    var selectBy: String
    var format: String
    var maxItems: Int?
    var promptsPerBatch: Int
    var openEndedShouldSteer: [String]?
    var openEndedShouldNotSteer: [String]?
    var openEndedMaxItems: Int?
    var maxNewTokens: Int

    var comparatorValue: SteeringCondition.Comparator { SteeringCondition.Comparator(rawValue: comparator) ?? .atLeast }
    var metric: ThresholdSearch.Metric { ThresholdSearch.Metric(rawValue: selectBy) ?? .f1 }

    enum CodingKeys: String, CodingKey {
        case steer, thresholds, comparator, format, centre
        case conditionVector = "condition_vector", shouldSteer = "should_steer", shouldNotSteer = "should_not_steer"
        case validationSplit = "validation_split", testSplit = "test_split", selectBy = "select_by", maxItems = "max_items"
        case promptsPerBatch = "prompts_per_batch"
        case openEndedShouldSteer = "open_ended_should_steer", openEndedShouldNotSteer = "open_ended_should_not_steer"
        case openEndedMaxItems = "open_ended_max_items", maxNewTokens = "max_new_tokens"
    }
}
