import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// `caa_open_ended`: greedy answers to a behaviour's open-ended questions (`[INST] q [/INST]`), steered from the
    /// last token of `[/INST]` on — so every generated token too — at each layer × multiplier (× system prompt), with
    /// the side effects of each condition: distinct-2 and repeated bigrams of the answers (`Degeneration`) and, with
    /// `neutral`, KL(base ‖ steered) of the next-token distributions over neutral text steered at every position
    /// (`NextTokenKL`). `steer` adds more vectors in every cell. The answers are stored as generations, for a `judge`
    /// stage to compare.
    public static var caaOpenEnded: StageRunner {
        .perCell(memoryEstimate: { _ in 1 << 30 }) { context, cell in
            let p = try context.decodeParams(CAAOpenEndedParams.self)
            let model = try context.baseModel()
            let vectors = try CAAStageData.vectors(context)
            let format = CAAStageData.format(context, p.format, model: model)
            guard let use = context.value("behaviours", axis: "behaviour", in: cell)?.stringValue else {
                throw StageInputError("stage \(context.stage.id): cell \(cell.index) names no behaviour")
            }
            let (ref, all, questions) = try CAAOpenEndedQuestions.load(context, use: use, maxItems: p.maxItems)
            let behaviour = CAAStageData.behaviour(ref)
            let systemKind = CAASystemPrompts.Kind(rawValue: context.value("system_prompt", axis: "system_prompt", in: cell)?.stringValue ?? "none") ?? .none
            let system = try CAASystemPrompts.text(systemKind, behaviour: behaviour)
            let selection = p.layers == nil ? try CAAStageData.selectedLayer(context) : nil
            guard let layer = context.value("layers", axis: "layer", in: cell)?.intValue ?? selection?.chosen.layer else {
                throw StageInputError("stage \(context.stage.id): cell \(cell.index) has no layer")
            }
            let multiplier = context.value("multipliers", axis: "multiplier", in: cell)?.doubleValue ?? 0
            guard let vector = vectors[behaviour]?[layer] else {
                throw StageInputError("stage \(context.stage.id): the vectors input has no \(behaviour) vector at layer \(layer)")
            }
            let also = try SteerEntry.terms(p.steer ?? [], vectors: vectors, width: model.network.config.embeddingLength, stage: context.stage.id)
            let setting = "steering block \(layer)'s output with multiplier \(PythonNumber.format(multiplier)) (\(behaviour))"
                + (p.steer.map { " together with \(SteerEntry.label($0))" } ?? "")
            /// The cell's own vector from `start` on (generated tokens included) and the `steer` terms by their rules.
            func steer(from start: Int, length: Int) -> [Intervention] {
                (multiplier == 0 ? [] : [.steer(layer: layer, vector: vector, multiplier: Float(multiplier), positions: .from(start))])
                    + also.map { $0.intervention(start: start, length: length) }
            }
            // Answers.
            let prompts = try questions.map { i -> (text: String, request: GenerationRequest) in
                let tokens = format.tokens(question: all[i], answer: nil, systemPrompt: system, tokenizer: model.tokenizer)
                let start = try format.steeringStart(in: tokens, tokenizer: model.tokenizer)
                return (format.text(question: all[i], answer: nil, systemPrompt: system),
                        GenerationRequest(prompt: tokens, interventions: steer(from: start, length: tokens.count)))
            }
            let options = GenerationOptions(maxNewTokens: p.maxNewTokens, stopTokens: model.tokenizer.stopTokenIDs)
            var results: [GenerationResult] = []
            for start in stride(from: 0, to: prompts.count, by: 8) {
                try context.checkCancellation()
                results += model.network.generate(prompts[start..<min(start + 8, prompts.count)].map(\.request), options: options)
                context.progress("answers", done: results.count, total: prompts.count, status: behaviour)
            }
            if results.contains(where: { $0.finishReason == .nonFinite }) {
                throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the logits", setting: setting)
            }
            let texts = results.map { model.tokenizer.decode($0.tokens, skipSpecial: true) }
            let degeneration = texts.map { Degeneration($0, n: 2) }
            let ratios = degeneration.compactMap(\.distinctRatio)
            var metrics: [String: Double] = [
                "n": Double(texts.count), "layer": Double(layer),
                "mean_tokens": Double(results.reduce(0) { $0 + $1.tokens.count }) / Double(max(results.count, 1)),
            ]
            // Answers of fewer than two words have no bigrams: the measure is left out when none has any.
            if !ratios.isEmpty {
                let distinct = ratios.reduce(0, +) / Double(ratios.count)
                metrics["distinct_2"] = distinct
                metrics["repeated_2"] = 1 - distinct
            }
            // KL on neutral text, steered at every position.
            if let neutral = p.neutral {
                let (nref, nsplit) = try CAAStageData.dataset(context, use: neutral)
                guard case .text(let wiki) = try StageDataset.load(nref, split: nsplit, files: context.datasetFiles) else {
                    throw StageInputError("stage \(context.stage.id): `neutral` (\(neutral)) is not raw text")
                }
                let tokens = Array(model.tokenizer.encode(wiki.rows.joined(separator: "\n"), addBOS: false).prefix(p.neutralTokens))
                func logits(_ interventions: [Intervention]) -> [Float] {
                    var item = [ForwardItem(tokens: tokens, cache: model.network.makeCache(), interventions: interventions, logits: .all)]
                    return model.network.forward(&item)[0].logits
                }
                let interventions = steer(from: 0, length: tokens.count)
                let steered = logits(interventions)
                guard steered.allSatisfy(\.isFinite), !interventions.contains(where: \.overflowsFP32) else {
                    throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the logits on neutral text", setting: setting)
                }
                metrics["kl_neutral"] = interventions.isEmpty ? 0 : NextTokenKL.mean(base: logits([]), steered: steered, vocabulary: model.network.config.vocabularySize)
            }
            var outputs: [JSONMember] = [
                JSONMember(key: "behaviour", value: .string(behaviour)), JSONMember(key: "dataset", value: .string(use)),
                JSONMember(key: "layer", value: .int(layer)), JSONMember(key: "multiplier", value: .double(multiplier)),
                JSONMember(key: "system_prompt", value: .string(systemKind.rawValue)), JSONMember(key: "format", value: .string(p.format)),
            ]
            if let steer = p.steer { outputs.append(JSONMember(key: "steer", value: SteerEntry.json(steer))) }
            if let selection {
                outputs.append(JSONMember(key: "selection", value: .object([
                    "input": .string(context.input("select")?.stageID ?? ""), "rule": .string(selection.rule), "layer": .int(selection.chosen.layer)])))
            }
            let generations = zip(questions, zip(prompts, zip(texts, degeneration))).map { i, rest in
                Generation(item: i, prompt: rest.0.text, output: rest.1.0,
                           meta: .object(["distinct_2": rest.1.1.distinctRatio.map { .double($0) } ?? .null, "tokens": .int(rest.1.0.count)]))
            }
            return CellResult(metrics: metrics, outputs: .object(outputs), generations: generations)
        }
    }
}

/// CAA's open-ended test sets: a JSON list of `{"question": …}`.
enum CAAOpenEndedQuestions {
    /// The questions of dataset use `use` (with its split, if named): the file's dataset, all its questions, and the
    /// indices chosen (the split's, at most `maxItems`).
    static func load(_ context: StageContext, use: String, maxItems: Int?) throws -> (ref: DatasetRef, all: [String], chosen: [Int]) {
        let (ref, split) = try CAAStageData.dataset(context, use: use)
        let all = try parse(try context.readKeyed(ref.url, what: "dataset \(ref.name)"), source: ref.url.path)
        let chosen = try split.map { try $0.indices(count: all.count, dataset: ref.name, files: context.datasetFiles) } ?? Array(all.indices)
        return (ref, all, Array(chosen.prefix(maxItems ?? chosen.count)))
    }

    static func parse(_ data: Data, source: String) throws -> [String] {
        guard let list = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else {
            throw StageInputError("\(source): expected a JSON list of {\"question\": …} objects")
        }
        return try list.enumerated().map { i, element in
            guard let q = (element as? [String: Any])?["question"] as? String else {
                throw StageInputError("\(source): item \(i) \"question\": expected a string")
            }
            return q
        }
    }
}

extension StageKind {
    public static let caaOpenEnded = StageKind(declaring: "caa_open_ended")
}

extension StageDeclaration {
    /// CAA's open-ended answers under steering, with degeneration and KL side effects.
    public static let caaOpenEnded = StageDeclaration(
        StageKindSpec(
            .caaOpenEnded,
            summary: "Greedy answers to CAA's open-ended questions steered from the `[/INST]` token on, with distinct-2 of the "
                + "answers and KL(base ‖ steered) on neutral text; one cell per behaviour × layer × multiplier × system prompt.",
            params: [
                ParamSpec("behaviours", .dataset, .required, axis: "behaviour",
                          doc: "The behaviours' open-ended sets (CAA JSON: a list of {question}), a grid; named as in `caa_vectors`."),
                ParamSpec("layers", StageCatalog.block, .optional, axis: "layer", model: .block,
                          doc: "Blocks to steer at, a grid; absent = the layer chosen on the `select` input."),
                ParamSpec("multipliers", StageCatalog.multiplier, .required, axis: "multiplier", doc: "Multipliers, a grid; 0 = unsteered."),
                ParamSpec("system_prompt", .choice(["none", "pos", "neg"]), .defaulted(.string("none")), axis: "system_prompt",
                          doc: "The prompting baseline, as in `caa_ab_sweep`."),
                ParamSpec("format", .choice(CAAPromptFormat.names), .defaulted(.string("llama2-paper")), doc: "As in `caa_ab_sweep`."),
                ParamSpec("max_items", .integer(min: 1, max: ManifestFields.maxTokens), .optional, doc: "Answer only the first N questions."),
                ParamSpec("max_new_tokens", StageCatalog.newTokens, .defaulted(.int(48)), model: .newTokens, doc: "Greedy tokens per answer."),
                ParamSpec("neutral", .dataset, .optional,
                          doc: "Raw text (wikitext) for KL(base ‖ steered) of next-token distributions, steered at every position."),
                ParamSpec("neutral_tokens", StageCatalog.newTokens, .defaulted(.int(256)), model: .window,
                          doc: "Tokens of `neutral` scored (from its start)."),
                SteerEntry.param("Vectors added in every cell besides the cell's own (multiplier 0 included), each with its own "
                                 + "blocks, positions and multiplier: `from_instruction_end` steers the generated tokens too, `last` "
                                 + "only the prompt's last token; on `neutral` text from its first token, or its last."),
            ],
            inputs: [
                InputSpec("vectors", accepts: [.caaVectors], required: true, doc: "The behaviour vectors."),
                InputSpec("select", accepts: [.caaABSweep], required: false, doc: "A validation sweep choosing the layer when `layers` is absent."),
            ],
            rules: [ParamRule(whenAbsent: "layers", requiresInputs: ["select"])]),
        version: 1,
        params: CAAOpenEndedParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("n", "count", "Questions answered."),
                .init("distinct_2", "fraction", "Mean over answers with bigrams of distinct bigrams ÷ bigrams (words, lowercased); absent when no answer has two words."),
                .init("repeated_2", "fraction", "1 − distinct_2: the share of repeated bigrams."),
                .init("mean_tokens", "tokens", "Mean answer length."),
                .init("kl_neutral", "nats", "Mean KL(base ‖ steered) of next-token distributions over `neutral` (with `neutral`)."),
                .init("layer", "block", "The block steered."),
            ],
            notes: "One cell per condition; the answers are stored as generations (`meta`: distinct_2, tokens). Outputs: "
                + "`{\"behaviour\", \"dataset\", \"layer\", \"multiplier\", \"system_prompt\", \"format\", \"steer\" (when given), "
                + "\"selection\" (when chosen)}`."),
        sources: ["Pipeline/Stages/CAAOpenEndedStage.swift", "Pipeline/Stages/CAAStageData.swift", "Pipeline/Stages/CAAABSweepStage.swift",
                  "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift",
                  "Pipeline/Stages/SteerParam.swift", "Experiments/CAA", "Experiments/Steering/SteeringTerm.swift",
                  "Experiments/Steering/Degeneration.swift", "Experiments/Steering/NextTokenKL.swift",
                  "Experiments/Steering/ValidationSelection.swift", "Experiments/Scoring/ExactLogSumExp.swift"],
        runner: .caaOpenEnded)
}

/// The parameters of `caa_open_ended` read once per stage.
struct CAAOpenEndedParams: Decodable {
    var layers: [Int]?
    var format: String
    var maxItems: Int?
    var maxNewTokens: Int
    var neutral: String?
    var neutralTokens: Int
    var steer: [SteerEntry]?
    enum CodingKeys: String, CodingKey {
        case layers, format, neutral, steer, maxItems = "max_items", maxNewTokens = "max_new_tokens", neutralTokens = "neutral_tokens"
    }
}
