import Engine
import Experiments
import Foundation

extension StageRunner {
    /// `collect_activations`: contrast prompts of a true/false statement set through the model; the residual
    /// stream (output of each chosen block) at the chosen positions, stored as an `ActivationArtifact`.
    ///
    /// Checkpoints (`ActivationCheckpoint`): the correct-only answers and the activations of the prompt batches done
    /// are saved every `CellCheckpoint.interval` seconds and on Ctrl-C; a re-run continues at the next batch with the
    /// same activations to the bit.
    ///
    /// `paired`: each statement gives an honest-persona and a dishonest-persona prompt (METHOD.md §2), positive =
    /// honest member. `plain`: the evaluation prompt of each statement once, positive = true statements, negative
    /// = false ones (a truth direction rather than an honesty one). `correct_only` first keeps the statements the
    /// base model answers correctly (greedy, 8 tokens, the true/false scorer).
    public static var collectActivations: StageRunner {
        .perCell(memoryEstimate: { _ in 1 << 30 }) { context, cell in
            let p = try context.decodeParams(CollectActivationsParams.self)
            let statements = try context.statements("dataset")
            let model = try context.baseModel()
            let blockCount = model.network.config.blockCount
            let layers = p.layers ?? Array(0..<blockCount)
            if let bad = layers.first(where: { $0 >= blockCount }) {
                throw StageInputError("stage \(context.stage.id): layer \(bad) does not exist (the model has blocks 0–\(blockCount - 1))")
            }
            let offsets = positionOffsets(p.positions)
            let collector = ActivationCollector(model: model.language, template: model.template, batchSize: p.batchSize)
            let evaluator = Evaluator(model: model.network, tokenizer: model.tokenizer, template: model.template, maxNewTokens: 8)
            var checkpoint = ActivationCheckpoint(context: context, cell: cell, layers: layers, offsets: offsets, batchSize: p.batchSize,
                                                  answerBatch: evaluator.batchSize)
            var saved = checkpoint.restore(statements: statements.count)
            var kept = statements
            if p.correctOnly {
                let earlier = saved.correct.map { correct in
                    EvaluatedAnswer(item: 0, promptText: "", output: "", choice: correct ? .a : .b, honest: .a, shareOfA: nil)
                }
                let answers = try evaluator.run(EvaluationSet.facts(statements), continuing: earlier) { answers in
                    context.progress("statements", done: answers.count, total: statements.count, status: "correct-only check")
                    try checkpoint.reached(correct: answers.map { $0.choice == $0.honest })
                }
                kept = zip(statements, answers).filter { $1.choice == $1.honest }.map(\.0)
                context.log("correct-only: kept \(kept.count) of \(statements.count) statements")
            }
            let paired = p.promptFormat != "plain"
            let positivePrompts: [PromptSpec], negativePrompts: [PromptSpec]
            if paired {
                let pairs = ContrastPrompts.paired(kept)
                positivePrompts = pairs.map(\.honest)
                negativePrompts = pairs.map(\.dishonest)
            } else {
                positivePrompts = kept.filter(\.isTrue).map { FactsPrompts.evaluation($0.text) }
                negativePrompts = kept.filter { !$0.isTrue }.map { FactsPrompts.evaluation($0.text) }
            }
            guard !positivePrompts.isEmpty, !negativePrompts.isEmpty else {
                throw StageInputError("stage \(context.stage.id): no contrast prompts left (\(kept.count) statements after filtering)")
            }
            let total = positivePrompts.count + negativePrompts.count
            if !checkpoint.fits(saved.positive, of: positivePrompts.count) || !checkpoint.fits(saved.negative, of: negativePrompts.count)
                || (saved.negative != nil && saved.positive?.values.first?.count != positivePrompts.count) {
                context.log("collecting every prompt again: the saved activations do not fit \(positivePrompts.count) + \(negativePrompts.count) prompts in batches of \(p.batchSize)")
                (saved.positive, saved.negative) = (nil, nil)
            }
            // Positive prompts, then negative ones, each in batches from its first prompt (as an uninterrupted run).
            let positive = try collector.collect(positivePrompts, layers: layers, offsetsFromEnd: offsets,
                                                 continuing: saved.positive) { done, soFar in
                context.progress("prompts", done: done, total: total)
                try checkpoint.reached(positive: soFar, negative: nil)
            }
            let negative = try collector.collect(negativePrompts, layers: layers, offsetsFromEnd: offsets,
                                                 continuing: saved.negative) { done, soFar in
                context.progress("prompts", done: positivePrompts.count + done, total: total)
                try checkpoint.reached(positive: positive, negative: soFar)
            }
            for (offset, matrix) in (positive.map { ($0, $1) } + negative.map { ($0, $1) }) {
                if let layer = matrix.layers.first(where: { !(matrix.rows[$0] ?? []).allSatisfy(\.isFinite) }) {
                    throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the output of block \(layer) at position \(-offset)",
                                         setting: "running the base model")
                }
            }
            let artifact = ActivationArtifact(layers: layers, offsets: offsets.sorted(), positive: positive, negative: negative, paired: paired)
            let ref = try context.writeArtifact { try artifact.write(to: $0) }
            checkpoint.remove()
            return CellResult(
                metrics: ["prompts": Double(total), "pairs": Double(paired ? positivePrompts.count : 0)],
                outputs: .object([
                    "layers": .array(layers.map { .int($0) }),
                    "positions": .array(offsets.sorted().map { .int(-$0) }),
                    "prompts": .int(total), "pairs": .int(paired ? positivePrompts.count : 0),
                    "width": .int(model.network.config.embeddingLength),
                    "prompt_format": .string(paired ? "paired" : "plain"),
                ]),
                artifacts: [StageArtifact.activations: ref])
        }
    }

    /// Manifest positions (offsets ≤ 0, `"last"` normalised to 0 by the decoder) as tokens before the last prompt
    /// token (≥ 0), sorted and distinct.
    static func positionOffsets(_ positions: [Int]) -> [Int] {
        positions.isEmpty ? [0] : Array(Set(positions.map { -$0 })).sorted()
    }
}

extension StageContext {
    /// The true/false statements a dataset parameter names (with its split).
    public func statements(_ param: String) throws -> [TrueFalseStatement] {
        guard case .statements(let s) = try loadDataset(param) else {
            throw StageInputError("stage \(stage.id): parameter `\(param)` must name a true/false statement set (a `statement,label` CSV)")
        }
        return s
    }

    /// The dataset (and split) a dataset parameter names, read.
    public func loadDataset(_ param: String) throws -> StageDataset {
        guard let (ref, split) = dataset(param) else {
            throw StageInputError("stage \(stage.id): parameter `\(param)` names no dataset of the manifest")
        }
        return try StageDataset.load(ref, split: split, files: datasetFiles)
    }

    /// Dataset files as this stage reads them: checked against the digests its key was computed from.
    public var datasetFiles: DatasetFiles {
        DatasetFiles(read: { try self.readKeyed($0, what: $1) }, verifyDirectory: { try self.verifyKeyed($0, what: $1) })
    }
}

extension StageKind {
    public static let collectActivations = StageKind(declaring: "collect_activations")
}

extension StageDeclaration {
    /// The contrast activations of METHOD.md §2.
    public static let collectActivations = StageDeclaration(
        StageKindSpec(
            .collectActivations,
            summary: "Runs the contrast prompts of a dataset through the model and stores the residual stream "
                + "(output of each chosen block) at the chosen token positions.",
            params: [
                ParamSpec("dataset", .dataset, .required, doc: "Statements to build contrast prompts from."),
                ParamSpec("layers", StageCatalog.layerList, .optional, model: .block,
                          doc: "Blocks whose output is captured; absent = every block of the model."),
                ParamSpec("positions", .positions, .defaulted(.string("last")), model: .offsetBack,
                          doc: "Token positions read, counted back from the last prompt token (0 = last, -7 = seven "
                               + "before it)."),
                ParamSpec("prompt_format", .choice(["paired", "plain"]), .defaulted(.string("paired")),
                          doc: "`paired`: each statement gives an honest-persona and a dishonest-persona prompt "
                               + "(the paper's contrast pairs); `plain`: the statement once, without persona."),
                ParamSpec("correct_only", .boolean, .defaulted(.bool(false)),
                          doc: "Keep only pairs the base model answers correctly."),
                ParamSpec("batch_size", StageCatalog.batch, .defaulted(.int(8)),
                          doc: "Prompts per forward pass."),
            ],
            inputs: []),
        version: 1,
        params: CollectActivationsParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("prompts", "count", "Prompts run (both members of every pair)."),
                .init("pairs", "count", "Contrast pairs (0 for `plain`)."),
            ],
            artifacts: [.init(StageArtifact.activations, "safetensors", "The activation matrix (format in `ActivationArtifact.swift`).")],
            notes: "One cell. Outputs: `{\"layers\": [...], \"positions\": [...], \"prompts\": N, \"pairs\": P, \"width\": d, "
                + "\"prompt_format\": \"paired\" | \"plain\"}`."),
        progress: .checkpointed(what: "activations of the prompt batches done (and the correct-only answers)", packed: false),
        sources: ["Pipeline/Stages/CollectActivationsStage.swift", "Pipeline/Stages/ActivationArtifact.swift",
                  "Pipeline/Stages/ActivationCheckpoint.swift", "Pipeline/Stages/CellCheckpoint.swift", "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift", "Experiments/Vectors/ActivationCollector.swift",
                  "Experiments/Prompts", "Experiments/Evaluation", "Experiments/Scoring", "Experiments/Datasets"],
        runner: .collectActivations)
}

/// The parameters of `collect_activations` (defaults and docs: its declaration).
struct CollectActivationsParams: Decodable {
    var layers: [Int]?
    /// Offsets ≤ 0 from the last prompt token.
    var positions: [Int]
    var promptFormat: String
    var correctOnly: Bool
    var batchSize: Int
    enum CodingKeys: String, CodingKey {
        case layers, positions, promptFormat = "prompt_format", correctOnly = "correct_only", batchSize = "batch_size"
    }
}
