import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// `caa_ab_sweep`: CAA's A/B measure per behaviour × layer × multiplier (× system prompt): P(matching) normalised
    /// over P(A) + P(B) after `… [/INST] (`, the behaviour's vector added from the last token of `[/INST]` on
    /// (`CAAABScorer`). Items answering other than (A)/(B) are excluded and listed. With `side_effect`, the items are
    /// that set's (MMLU, TruthfulQA; "matching" = correct) under each behaviour's steering. Without `layers`, the
    /// layer is chosen from the `select` input (a validation-split sweep, `CAALayerChoice`) and recorded.
    ///
    /// The cells of one behaviour and system prompt are claimed together: each prompt's unsteered part runs once and
    /// every cell's variant continues from it. Each group is a few seconds; a cancelled group is given back whole.
    public static var caaABSweep: StageRunner {
        StageRunner(memoryEstimate: { _ in 1 << 30 }) { context in
            let p = try context.decodeParams(CAAABSweepParams.self)
            let model = try context.baseModel()
            let vectors = try CAAStageData.vectors(context)
            let selection = p.layers == nil ? try CAAStageData.selectedLayer(context) : nil
            let scorer = try CAAABScorer(model: model.network, tokenizer: model.tokenizer)
            let format = CAAStageData.format(context, p.format, model: model)
            let also = try SteerEntry.terms(p.steer ?? [], vectors: vectors, width: model.network.config.embeddingLength, stage: context.stage.id)
            func coordinate(_ cell: SweepCell, _ axis: String, _ param: String) -> JSONValue? { context.value(param, axis: axis, in: cell) }
            // Groups: behaviour × system prompt, in cell order.
            var groups: [(key: String, indices: [Int])] = []
            for cell in context.stage.cells {
                let key = (coordinate(cell, "behaviour", "behaviours")?.stringValue ?? "") + "|" + (coordinate(cell, "system_prompt", "system_prompt")?.stringValue ?? "none")
                if let g = groups.firstIndex(where: { $0.key == key }) { groups[g].indices.append(cell.index) } else { groups.append((key, [cell.index])) }
            }
            for group in groups {
                let claimed = try context.nextCells(group.indices.count, among: group.indices)
                guard let first = claimed.first else { continue }
                let use = coordinate(first, "behaviour", "behaviours")?.stringValue ?? ""
                let systemKind = CAASystemPrompts.Kind(rawValue: coordinate(first, "system_prompt", "system_prompt")?.stringValue ?? "none") ?? .none
                let (behaviourRef, behaviourItems) = try CAAStageData.items(context, use: use)
                let behaviour = CAAStageData.behaviour(behaviourRef)
                guard let vector = vectors[behaviour] else {
                    throw StageInputError("stage \(context.stage.id): the vectors input has no behaviour \"\(behaviour)\" (it has \(vectors.keys.sorted().joined(separator: ", ")))")
                }
                let scored = try p.sideEffect.map { try CAAStageData.items(context, use: $0).items } ?? behaviourItems
                let abItems = scored.filter(\.isAB), excluded = scored.filter { !$0.isAB }.map(\.index)
                let items = p.maxItems.map { Array(abItems.prefix($0)) } ?? abItems
                let system = try CAASystemPrompts.text(systemKind, behaviour: behaviour)
                let prompts = try items.map {
                    try CAAStageData.abPrompt(context, $0, format: format, systemPrompt: system, model: model, source: p.sideEffect ?? use)
                }
                let variants = try claimed.map { cell -> CAAABScorer.Steering? in
                    let multiplier = coordinate(cell, "multiplier", "multipliers")?.doubleValue ?? 0
                    guard let layer = coordinate(cell, "layer", "layers")?.intValue ?? selection?.chosen.layer else {
                        throw StageInputError("stage \(context.stage.id): cell \(cell.index) has no layer")
                    }
                    guard multiplier != 0 else { return also.isEmpty ? nil : CAAABScorer.Steering(terms: also) }
                    guard let v = vector[layer] else {
                        throw StageInputError("stage \(context.stage.id): the \(behaviour) vectors have no layer \(layer) (they have \(vector.keys.sorted()))")
                    }
                    return CAAABScorer.Steering(terms: [SteeringTerm(layer: layer, vector: v, multiplier: Float(multiplier))] + also)
                }
                var results: [[MatchingProbability?]] = []
                for start in stride(from: 0, to: prompts.count, by: p.promptsPerBatch) {
                    try context.checkCancellation()
                    results += scorer.score(Array(prompts[start..<min(start + p.promptsPerBatch, prompts.count)]), variants: variants)
                    context.progress("items", done: results.count, total: prompts.count,
                                     status: "\(behaviour)\(systemKind == .none ? "" : " (\(systemKind.rawValue) prompt)"), \(claimed.count) cells")
                }
                for (c, cell) in claimed.enumerated() {
                    let layer = coordinate(cell, "layer", "layers")?.intValue ?? selection?.chosen.layer ?? -1
                    let multiplier = coordinate(cell, "multiplier", "multipliers")?.doubleValue ?? 0
                    let column = results.map { $0[c] }
                    guard column.allSatisfy({ $0 != nil }) else {
                        try context.fail(cell, NonFiniteError(stage: context.stage.id, cells: [cell], what: "the logits",
                                                              setting: "steering block \(layer)'s output with multiplier \(PythonNumber.format(multiplier)) (\(behaviour))"
                                                                  + (p.steer.map { " together with \(SteerEntry.label($0))" } ?? "")))
                        continue
                    }
                    let summary = CAAABSummary(column.map { $0! })
                    var outputs: [String: JSONValue] = [
                        "behaviour": .string(behaviour), "dataset": .string(p.sideEffect ?? use), "side_effect": p.sideEffect.map { .string($0) } ?? .null,
                        "layer": .int(layer), "multiplier": .double(multiplier), "system_prompt": .string(systemKind.rawValue),
                        "format": .string(p.format), "excluded_items": .array(excluded.map { .int($0) }),
                        "items": .array(zip(items, column).map { .object(["item": .int($0.index), "p": .double($1!.normalised)]) }),
                    ]
                    if let steer = p.steer { outputs["steer"] = SteerEntry.json(steer) }
                    if let selection {
                        outputs["selection"] = .object(["input": .string(context.input("select")?.stageID ?? ""), "rule": .string(selection.rule),
                                                        "layer": .int(selection.chosen.layer), "score": .double(selection.chosen.score)])
                    }
                    try context.commit(cell, CellResult(metrics: [
                        "p_matching": summary.mean, "ci_low": summary.low, "ci_high": summary.high, "accuracy": summary.accuracy,
                        "ab_mass": summary.abMass, "n": Double(column.count), "excluded": Double(excluded.count), "layer": Double(layer),
                    ], outputs: .object(outputs.map { JSONMember(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key })))
                }
            }
        }
    }
}

/// A cell's stored numbers: the mean of P(matching) normalised over P(A) + P(B), its 95% interval (mean ± 1.96
/// standard errors over items), the share of items whose matching answer is the likelier of the two, and the mean
/// P(A) + P(B).
struct CAAABSummary {
    var mean: Double, low: Double, high: Double, accuracy: Double, abMass: Double

    init(_ values: [MatchingProbability]) {
        let n = Double(values.count), ps = values.map(\.normalised)
        let interval = MeanInterval(ps)
        mean = interval?.mean ?? 0
        low = max(0, interval?.low ?? 0)
        high = min(1, interval?.high ?? 0)
        accuracy = Double(ps.filter { $0 > 0.5 }.count) / max(n, 1)
        abMass = values.reduce(0) { $0 + $1.abMass } / max(n, 1)
    }
}

extension CAAStageData {
    /// The layer chosen on the `select` input's cells (system prompt none, no side effect): `CAALayerChoice`.
    static func selectedLayer(_ context: StageContext) throws -> ValidationSelection {
        guard let source = context.input("select") else {
            throw StageInputError("stage \(context.stage.id): without `layers`, the layer comes from a `select` input (a caa_ab_sweep on a validation split)")
        }
        let observations = source.cells.compactMap { cell -> CAALayerChoice.Observation? in
            guard cell.status == .done, cell.outputs["system_prompt"]?.stringValue == "none", cell.outputs["side_effect"]?.stringValue == nil,
                  let b = cell.outputs["behaviour"]?.stringValue, let l = cell.outputs["layer"]?.intValue,
                  let m = cell.outputs["multiplier"]?.doubleValue, let pm = cell.metrics["p_matching"] else { return nil }
            return .init(behaviour: b, layer: l, multiplier: m, pMatching: pm)
        }
        guard let choice = CAALayerChoice.choose(observations) else {
            throw StageInputError("stage \(context.stage.id): the select input \(source.stageID) has no layer with both a positive and a negative multiplier")
        }
        context.log("layer \(choice.chosen.layer) chosen on \(source.stageID): \(choice.rule)")
        return choice
    }
}

extension StageKind {
    public static let caaABSweep = StageKind(declaring: "caa_ab_sweep")
}

extension StageDeclaration {
    /// CAA's A/B evaluation under steering (Panickssery et al.; ../shared/datasets/caa/FORMAT.md).
    public static let caaABSweep = StageDeclaration(
        StageKindSpec(
            .caaABSweep,
            summary: "CAA's A/B measure: P(matching) / (P(A) + P(B)) after `… [/INST] (`, steered from the `[/INST]` token "
                + "on; one cell per behaviour × layer × multiplier × system prompt.",
            params: [
                ParamSpec("behaviours", .dataset, .required, axis: "behaviour",
                          doc: "The behaviours' A/B sets (CAA JSON), a grid; a behaviour's vector is the `vectors` input's of "
                               + "the same name (see `caa_vectors`). With `side_effect`, they choose the vector only."),
                ParamSpec("layers", StageCatalog.block, .optional, axis: "layer", model: .block,
                          doc: "Blocks to steer at, a grid; absent = the layer chosen on the `select` input."),
                ParamSpec("multipliers", StageCatalog.multiplier, .required, axis: "multiplier",
                          doc: "Multipliers of the (normalised) vector, a grid; 0 = unsteered."),
                ParamSpec("system_prompt", .choice(["none", "pos", "neg"]), .defaulted(.string("none")), axis: "system_prompt",
                          doc: "The prompting baseline (CAA's `--system_prompt`): a system prompt asking for the behaviour "
                               + "(`pos`) or its opposite (`neg`); reptune's own one-sentence texts (CAASystemPrompts)."),
                ParamSpec("side_effect", .dataset, .optional,
                          doc: "Score this set instead (CAA's MMLU or TruthfulQA A/B file: prompt, correct, incorrect) "
                               + "under each behaviour's steering; P(matching) is then P(correct)."),
                ParamSpec("format", .choice(CAAPromptFormat.names), .defaulted(.string("llama2-paper")),
                          doc: "`llama2-paper` (`[INST] q [/INST] (`, BOS added) or `chat` (the model's template; steering "
                               + "from the last token of its assistant header)."),
                ParamSpec("max_items", .integer(min: 1, max: ManifestFields.maxTokens), .optional,
                          doc: "Score only the first N A/B items (after the split); absent = all."),
                ParamSpec("prompts_per_batch", StageCatalog.batch, .defaulted(.int(8)),
                          doc: "Prompts whose continuations (one per cell of the group) run together."),
                SteerEntry.param("Vectors added in every cell besides the cell's own (multiplier 0 included), each with its own "
                                 + "blocks, positions and multiplier: e.g. refusal held at +2 while sycophancy is swept. Absent = none."),
            ],
            inputs: [
                InputSpec("vectors", accepts: [.caaVectors], required: true, doc: "The behaviour vectors."),
                InputSpec("select", accepts: [.caaABSweep], required: false,
                          doc: "A sweep on a validation split whose best layer (CAALayerChoice) is used when `layers` is absent."),
            ],
            rules: [ParamRule(whenAbsent: "layers", requiresInputs: ["select"])]),
        version: 1,
        params: CAAABSweepParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("p_matching", "probability", "Mean over items of P(matching) / (P(A) + P(B))."),
                .init("ci_low", "probability", "95% interval of that mean, low end (mean − 1.96 standard errors)."),
                .init("ci_high", "probability", "The interval's high end."),
                .init("accuracy", "fraction", "Items whose matching (correct) letter is the likelier of A and B."),
                .init("ab_mass", "probability", "Mean P(A) + P(B): how much of the next token is a letter at all."),
                .init("n", "count", "Items scored."),
                .init("excluded", "count", "Items left out because an answer is not (A) or (B)."),
                .init("layer", "block", "The block steered (the chosen one when selected)."),
            ],
            notes: "One cell per behaviour × layer × multiplier × system prompt. Outputs: `{\"behaviour\", \"dataset\", "
                + "\"side_effect\", \"layer\", \"multiplier\", \"system_prompt\", \"format\", \"excluded_items\": [i…], "
                + "\"items\": [{\"item\": i, \"p\": P}…], \"selection\": {\"input\", \"rule\", \"layer\", \"score\"} (when chosen), "
                + "\"steer\": [{\"vector\", \"layers\", \"positions\", \"multiplier\"}…] (when given)}`."),
        sources: ["Pipeline/Stages/CAAABSweepStage.swift", "Pipeline/Stages/CAAStageData.swift", "Pipeline/Stages/StageModels.swift",
                  "Pipeline/Stages/SteerParam.swift", "Experiments/Steering/SteeringTerm.swift",
                  "Pipeline/Stages/NonFiniteError.swift", "Experiments/CAA", "Experiments/Steering/ValidationSelection.swift",
                  "Experiments/Scoring/ExactLogSumExp.swift", "Experiments/Statistics/MeanInterval.swift"],
        runner: .caaABSweep)
}

/// The parameters of `caa_ab_sweep` read once per stage (behaviour, layer, multiplier, system prompt: a cell's coordinates).
struct CAAABSweepParams: Decodable {
    var layers: [Int]?
    var sideEffect: String?
    var format: String
    var maxItems: Int?
    var promptsPerBatch: Int
    var steer: [SteerEntry]?
    enum CodingKeys: String, CodingKey {
        case layers, format, steer, sideEffect = "side_effect", maxItems = "max_items", promptsPerBatch = "prompts_per_batch"
    }
}
