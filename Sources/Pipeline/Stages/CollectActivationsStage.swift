import Engine
import Experiments
import Foundation

extension StageRunner {
    /// `collect_activations`: contrast prompts of a true/false statement set through the model; the residual
    /// stream (output of each chosen block) at the chosen positions, stored as an `ActivationArtifact`.
    ///
    /// `paired`: each statement gives an honest-persona and a dishonest-persona prompt (METHOD.md §2), positive =
    /// honest member. `plain`: the evaluation prompt of each statement once, positive = true statements, negative
    /// = false ones (a truth direction rather than an honesty one). `correct_only` first keeps the statements the
    /// base model answers correctly (greedy, 8 tokens, the true/false scorer).
    public static var collectActivations: StageRunner {
        .perCell(memoryEstimate: { _ in 1 << 30 }) { context, cell in
            let statements = try context.statements("dataset")
            let model = try context.baseModel()
            let blockCount = model.network.config.blockCount
            let layers = context.params["layers"]?.arrayValue?.compactMap(\.intValue) ?? Array(0..<blockCount)
            if let bad = layers.first(where: { $0 >= blockCount }) {
                throw StageInputError("stage \(context.stage.id): layer \(bad) does not exist (the model has blocks 0–\(blockCount - 1))")
            }
            let offsets = positionOffsets(context.params["positions"])
            var kept = statements
            if context.params["correct_only"]?.boolValue == true {
                let evaluator = Evaluator(model: model.network, tokenizer: model.tokenizer, template: model.template, maxNewTokens: 8)
                let answers = evaluator.run(EvaluationSet.facts(statements)) { done, total in
                    context.progress("statements", done: done, total: total, status: "correct-only check")
                }
                kept = zip(statements, answers).filter { $1.choice == $1.honest }.map(\.0)
                context.log("correct-only: kept \(kept.count) of \(statements.count) statements")
            }
            let paired = context.params["prompt_format"]?.stringValue != "plain"
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
            let collector = ActivationCollector(model: model.language, template: model.template,
                                                batchSize: context.params["batch_size"]?.intValue ?? 8)
            let total = positivePrompts.count + negativePrompts.count
            let positive = collector.collect(positivePrompts, layers: layers, offsetsFromEnd: offsets) { done, _ in
                context.progress("prompts", done: done, total: total)
            }
            try context.checkCancellation()
            let negative = collector.collect(negativePrompts, layers: layers, offsetsFromEnd: offsets) { done, _ in
                context.progress("prompts", done: positivePrompts.count + done, total: total)
            }
            for (offset, matrix) in (positive.map { ($0, $1) } + negative.map { ($0, $1) }) {
                if let layer = matrix.layers.first(where: { !(matrix.rows[$0] ?? []).allSatisfy(\.isFinite) }) {
                    throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the output of block \(layer) at position \(-offset)",
                                         setting: "running the base model")
                }
            }
            let artifact = ActivationArtifact(layers: layers, offsets: offsets.sorted(), positive: positive, negative: negative, paired: paired)
            let ref = try context.writeArtifact { try artifact.write(to: $0) }
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

    /// Manifest positions (`"last"` = 0, offsets ≤ 0) as tokens before the last prompt token (≥ 0).
    static func positionOffsets(_ value: JSONValue?) -> [Int] {
        let list = value?.arrayValue ?? value.map { [$0] } ?? []
        let offsets = list.compactMap { v -> Int? in v.stringValue == "last" ? 0 : v.intValue.map { -$0 } }
        return offsets.isEmpty ? [0] : Array(Set(offsets)).sorted()
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
