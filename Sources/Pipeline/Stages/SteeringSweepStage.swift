import Engine
import Experiments
import Foundation

extension StageRunner {
    /// `steering_sweep`: greedy answers of the base model steered at each layer × multiplier of the grid (and,
    /// with `include_zero_out`, with the vector projected out at each layer), every cell scored and committed as
    /// it completes.
    ///
    /// Cells are claimed a layer at a time; for each prompt the unsteered prompt runs once through blocks 0…L and
    /// every multiplier of that layer resumes from that residual and KV cache, all multipliers decoding in one
    /// batch (`SteeringSweep` with prefix reuse). A block's answers so far are saved every `CellCheckpoint.interval`
    /// seconds and on cancellation (`SweepBlockCheckpoint`); a re-run of the block continues at its next prompt batch.
    public static var steeringSweep: StageRunner {
        StageRunner(memoryEstimate: { _ in 1 << 30 }) { context in
            let p = try context.decodeParams(SteeringSweepParams.self)
            let items = try context.evaluationItems(task: p.task)
            let model = try context.baseModel()
            let vectors = try context.steeringDirections(slot: "vector")
            let positions: PositionSelector = switch p.positions {
            case "prompt": .prompt
            case "generated": .generated
            default: .all
            }
            let options = GenerationOptions(maxNewTokens: p.maxNewTokens,
                                            stopTokens: model.tokenizer.stopTokenIDs, keepFirstLogits: true)
            let prompts = items.map { ($0, $0.prompt.render(model.template), $0.prompt.tokens(model.tokenizer, template: model.template)) }
            let reader = AnswerReader(tokenizer: model.tokenizer, items: items)
            // A layer's cells (every multiplier and its zero-out cell) are claimed together so they share the prefix.
            let layersInOrder = Array(Set(context.stage.cells.compactMap { $0["layer"]?.intValue })).sorted()
            for wanted in layersInOrder {
                let indices = context.stage.cells.filter { $0["layer"]?.intValue == wanted }.map(\.index)
                let claimed = try context.nextCells(indices.count, among: indices)
                if claimed.isEmpty { continue }
                for (layer, cells) in Dictionary(grouping: claimed, by: { $0["layer"]?.intValue ?? -1 }).sorted(by: { $0.key < $1.key }) {
                    guard let vector = vectors[layer] else {
                        throw StageInputError("stage \(context.stage.id): the vector input has no direction for layer \(layer) "
                            + "(it has \(vectors.keys.sorted()))")
                    }
                    let variants: [SteeringVariant] = cells.map {
                        $0["zero_out"]?.boolValue == true ? .zeroOut : .multiplier(Float($0["multiplier"]?.doubleValue ?? 0))
                    }
                    let sweep = SteeringSweep(model: model.network, vectors: [layer: vector], variants: variants,
                                              positions: positions, options: options)
                    // Several prompts per batch: more sequences decode together (each dequantized weight panel serves every row).
                    let promptsPerBatch = max(1, 32 / max(1, cells.count))
                    var checkpoint = SweepBlockCheckpoint(context: context, layer: layer, cells: cells,
                                                          items: items.map(\.item), promptsPerBatch: promptsPerBatch)
                    var answers = checkpoint.restore(promptTexts: prompts.map(\.1))
                    let resumeAt = answers.first?.count ?? 0
                    for start in stride(from: resumeAt, to: prompts.count, by: promptsPerBatch) {
                        try checkpoint.reached(answers, start: start, resumedAt: resumeAt)
                        let batch = prompts[start..<min(start + promptsPerBatch, prompts.count)]
                        let results = sweep.run(prompts: batch.map(\.2), layer: layer)
                        for ((item, text, _), perVariant) in zip(batch, results) {
                            for (c, result) in perVariant.enumerated() {
                                answers[c].append(reader.answer(item, promptText: text, result: result))
                            }
                        }
                        context.progress("prompts", done: start + batch.count, total: prompts.count, status: "layer \(layer), \(cells.count) cells")
                    }
                    // Cells whose logits overflowed fail; the others of the block are stored.
                    var overflowed: [SweepCell] = []
                    for (cell, cellAnswers) in zip(cells, answers) {
                        if cellAnswers.contains(where: \.nonFinite) { overflowed.append(cell); continue }
                        let label = cell["zero_out"]?.boolValue == true ? "zeroed out L\(layer)"
                            : "steered L\(layer) ×\(PythonNumber.format(cell["multiplier"]?.doubleValue ?? 0))"
                        try context.commit(cell, EvaluationCell.result(cellAnswers, outputs: [
                            "task": .string(p.task), "variant": .string(label),
                            "dataset": .string(p.dataset),
                        ]))
                    }
                    checkpoint.remove()
                    if !overflowed.isEmpty {
                        let multipliers = overflowed.map { $0["zero_out"]?.boolValue == true ? "zero-out" : PythonNumber.format($0["multiplier"]?.doubleValue ?? 0) }
                        throw NonFiniteError(stage: context.stage.id, cells: overflowed, what: "the activations",
                                             setting: "steering block \(layer)'s output with multiplier\(multipliers.count == 1 ? "" : "s") \(multipliers.joined(separator: ", "))")
                    }
                }
            }
        }
    }
}

extension StageKind {
    public static let steeringSweep = StageKind(declaring: "steering_sweep")
}

extension StageDeclaration {
    /// Answers steered at every layer × multiplier of a grid.
    public static let steeringSweep = StageDeclaration(
        StageKindSpec(
            .steeringSweep,
            summary: "Generates answers with the vector added at each layer × multiplier of the grid; one sweep "
                + "cell per (layer, multiplier).",
            params: [
                ParamSpec("layers", StageCatalog.block, .required, axis: "layer", model: .block,
                          doc: "Blocks to steer at; a grid."),
                ParamSpec("multipliers", StageCatalog.multiplier, .required, axis: "multiplier",
                          doc: "Steering multipliers; a grid (negative values steer the other way)."),
                ParamSpec("include_zero_out", .boolean, .defaulted(.bool(false)),
                          doc: "Also run, per layer, a cell that projects the vector out instead of adding it."),
                ParamSpec("dataset", .dataset, .required, doc: "Prompts to answer."),
                ParamSpec("task", .choice(["facts", "tqa", "ab_questions", "open_ended"]), .defaulted(.string("facts")),
                          doc: "How prompts are built from the dataset and answers scored."),
                ParamSpec("max_new_tokens", StageCatalog.newTokens, .defaulted(.int(30)), model: .newTokens,
                          doc: "Greedy tokens generated per prompt."),
                ParamSpec("positions", .choice(["all", "prompt", "generated"]), .defaulted(.string("all")),
                          doc: "Token positions the vector is added at."),
            ],
            inputs: [
                InputSpec("vector", accepts: [.vectors], required: true, doc: "The steering vectors."),
            ],
            extraCells: .perAxisValue(flag: "include_zero_out", axis: "layer", marker: "zero_out")),
        version: 1,
        params: SteeringSweepParams.self,
        outputs: StageOutputs(
            metrics: StageOutputs.scoredAnswerMetrics,
            notes: "Scored answers, as `evaluate`'s. A sweep computes one layer's cells together (a block: every "
                + "multiplier and the zero-out cell share each prompt's prefix)."),
        progress: .checkpointed(what: "a block's answers so far", packed: true),
        sources: ["Pipeline/Stages/SteeringSweepStage.swift", "Pipeline/Stages/SweepBlockCheckpoint.swift",
                  "Pipeline/Stages/CellCheckpoint.swift", "Pipeline/Stages/EvaluateStage.swift", "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift",
                  "Experiments/Steering", "Experiments/Evaluation", "Experiments/Prompts", "Experiments/Scoring",
                  "Experiments/Statistics", "Experiments/Datasets"],
        runner: .steeringSweep)
}

/// The parameters of `steering_sweep` read once per stage (the grid's layer and multiplier are a cell's coordinates).
struct SteeringSweepParams: Decodable {
    var dataset: String
    var task: String
    var maxNewTokens: Int
    var positions: String
    var includeZeroOut: Bool
    enum CodingKeys: String, CodingKey {
        case dataset, task, positions, maxNewTokens = "max_new_tokens", includeZeroOut = "include_zero_out"
    }
}
