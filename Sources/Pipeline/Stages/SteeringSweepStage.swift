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
    /// batch (`SteeringSweep` with prefix reuse). A block's answers so far are saved every 30 s and on cancellation
    /// (`SweepBlockCheckpoint`); a re-run of the block continues at its next prompt batch.
    public static var steeringSweep: StageRunner {
        StageRunner(memoryEstimate: { _ in 1 << 30 }) { context in
            let task = context.params["task"]?.stringValue ?? "facts"
            let items = try context.evaluationItems(task: task)
            let model = try context.baseModel()
            let vectors = try context.steeringDirections(slot: "vector")
            let positions: PositionSelector = switch context.params["positions"]?.stringValue {
            case "prompt": .prompt
            case "generated": .generated
            default: .all
            }
            let options = GenerationOptions(maxNewTokens: context.params["max_new_tokens"]?.intValue ?? 30,
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
                    let checkpoint = SweepBlockCheckpoint(context: context, layer: layer, cells: cells,
                                                          items: items.map(\.item), promptsPerBatch: promptsPerBatch)
                    var answers = checkpoint.restore(promptTexts: prompts.map(\.1))
                    let resumeAt = answers.first?.count ?? 0
                    var lastSave = Date()
                    for start in stride(from: resumeAt, to: prompts.count, by: promptsPerBatch) {
                        if context.isCancelled {
                            if start > resumeAt {
                                try checkpoint.save(answers)
                                context.log("layer \(layer): interrupted after prompt \(start) of \(prompts.count); checkpoint saved")
                            }
                            throw StageCancelled()
                        }
                        if Date().timeIntervalSince(lastSave) >= SweepBlockCheckpoint.interval {
                            try checkpoint.save(answers)
                            lastSave = Date()
                        }
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
                            "task": .string(task), "variant": .string(label),
                            "dataset": .string(context.params["dataset"]?.stringValue ?? ""),
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
