import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// `caa_vectors`: one cell per behaviour (a generate set). Each item is written as `… [/INST] (A)` with the
    /// matching answer and with the other; the vector at each layer is the mean difference of block outputs at
    /// token −2 (`CAAVectorBuilder`). The running sums are saved through `CellCheckpoint` every minute and on Ctrl-C,
    /// so an interrupted behaviour continues at its next batch.
    public static var caaVectors: StageRunner {
        .perCell(memoryEstimate: { _ in 1 << 30 }) { context, cell in
            let p = try context.decodeParams(CAAVectorsParams.self)
            guard let use = context.value("generate", axis: "behaviour", in: cell)?.stringValue else {
                throw StageInputError("stage \(context.stage.id): cell \(cell.index) names no generate set")
            }
            let (ref, loaded) = try CAAStageData.items(context, use: use)
            let items = p.maxItems.map { Array(loaded.prefix($0)) } ?? loaded
            let model = try context.baseModel()
            let blocks = model.network.config.blockCount
            let layers = p.layers ?? Array(0..<blocks)
            if let beyond = layers.first(where: { $0 >= blocks }) {
                throw StageInputError("stage \(context.stage.id): layer \(beyond) is beyond the model's \(blocks) blocks")
            }
            let format = CAAStageData.format(context, p.format, model: model)
            let pairs = items.map { item in
                (positive: format.tokens(question: item.question, answer: BehaviourItem.answer(item.matching), systemPrompt: nil, tokenizer: model.tokenizer),
                 negative: format.tokens(question: item.question, answer: BehaviourItem.answer(item.notMatching), systemPrompt: nil, tokenizer: model.tokenizer))
            }
            let behaviour = CAAStageData.behaviour(ref)
            let builder = CAAVectorBuilder(model: model.network, layers: layers, batchSize: p.batchSize)
            var checkpoint = CellCheckpoint(context, name: "cell-\(cell.index).json")
            var sums = checkpoint.restore(CAAVectorsProgress.self, context, expected: "\(pairs.count) pairs at layers \(layers)") {
                $0.pairs == pairs.count && $0.layers == layers && $0.sums.count <= pairs.count && $0.sums.count % p.batchSize == 0
            }?.sums ?? CAAVectorBuilder.Sums(count: 0, difference: [:])
            if sums.count > 0 { context.log("\(behaviour): resuming at item \(sums.count) of \(pairs.count)") }
            let resumedAt = sums.count
            try builder.accumulate(pairs, into: &sums) { sofar in
                context.progress("items", done: sofar.count, total: pairs.count, status: behaviour)
                try checkpoint.reached(context, done: "\(behaviour): interrupted after item \(sofar.count) of \(pairs.count)",
                                       hasNew: sofar.count > resumedAt,
                                       save: CellCheckpoint.json(CAAVectorsProgress(pairs: pairs.count, layers: layers, sums: sofar)))
            }
            let directions = sums.mean
            if let layer = layers.first(where: { !directions[$0]!.allSatisfy(\.isFinite) }) {
                throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the \(behaviour) vector at layer \(layer)",
                                     setting: "averaging the \(pairs.count) pairs of \(use)")
            }
            let norms = layers.map { l in directions[l]!.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
            let file = ControlVectorFile(directions: directions, modelHint: context.model.url.lastPathComponent)
            let artifact = try context.writeArtifact { try file.write(to: $0, layerCount: blocks) }
            checkpoint.remove()
            let excluded = items.filter { !$0.isAB }.count
            return CellResult(
                metrics: ["pairs": Double(pairs.count), "max_norm": norms.max() ?? 0],
                outputs: .object([
                    "behaviour": .string(behaviour), "dataset": .string(use), "format": .string(p.format),
                    "normalised": .bool(p.normalise), "pairs": .int(pairs.count), "pairs_other_than_ab": .int(excluded),
                    "layers": .array(zip(layers, norms).map { .object(["layer": .int($0), "norm": .double($1)]) }),
                ]),
                artifacts: [StageArtifact.vectors: artifact])
        }
    }
}

/// A behaviour's running sums saved mid-cell, with what they were computed over.
struct CAAVectorsProgress: Codable {
    var pairs: Int
    var layers: [Int]
    var sums: CAAVectorBuilder.Sums
}

extension StageKind {
    public static let caaVectors = StageKind(declaring: "caa_vectors")
}

extension StageDeclaration {
    /// CAA's behaviour vectors (Panickssery et al.; ../shared/datasets/caa/FORMAT.md).
    public static let caaVectors = StageDeclaration(
        StageKindSpec(
            .caaVectors,
            summary: "CAA behaviour vectors: per behaviour and layer, the mean difference of block outputs at the answer "
                + "letter (token −2 of `… [/INST] (A)`) between the matching and the other answer; one cell per behaviour.",
            params: [
                ParamSpec("generate", .dataset, .required, axis: "behaviour",
                          doc: "The behaviours' generate sets (CAA JSON: question, answer_matching_behavior, "
                               + "answer_not_matching_behavior); a grid, one cell each. A behaviour is named by its CAA "
                               + "dataset (`caa_sycophancy` → `sycophancy`), else by the manifest's name for the dataset up to its first "
                               + "`.` (`sycophancy.gen` → `sycophancy`)."),
                ParamSpec("layers", StageCatalog.layerList, .optional, model: .block,
                          doc: "Blocks whose outputs give vectors; absent = every block."),
                ParamSpec("format", .choice(CAAPromptFormat.names), .defaulted(.string("llama2-paper")),
                          doc: "`llama2-paper`: CAA's `[INST] q [/INST] (A)` (BOS added); `chat`: the question as the "
                               + "user turn of the model's chat template, the answer opening the assistant turn."),
                ParamSpec("normalise", .boolean, .defaulted(.bool(true)),
                          doc: "CAA's normalisation: stages reading these vectors rescale each layer's vectors to the "
                               + "behaviours' mean norm at that layer (the stored files keep the raw mean differences)."),
                ParamSpec("max_items", .integer(min: 1, max: ManifestFields.maxTokens), .optional,
                          doc: "Use only the first N items of each generate set (after the split); absent = all."),
                ParamSpec("batch_size", StageCatalog.batch, .defaulted(.int(8)), doc: "Items per forward pass (two sequences each)."),
            ],
            inputs: []),
        version: 1,
        params: CAAVectorsParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("pairs", "count", "Items averaged (each a matching/non-matching pair)."),
                .init("max_norm", "L2", "The largest norm of the behaviour's raw vectors over the layers."),
            ],
            artifacts: [.init(StageArtifact.vectors, "GGUF", "The behaviour's raw mean differences as a llama.cpp "
                + "control-vector GGUF (`direction.N` = added to the output of block N), before normalisation.")],
            notes: "One cell per behaviour. Outputs: `{\"behaviour\": b, \"dataset\": d, \"format\": f, \"normalised\": bool, "
                + "\"pairs\": n, \"pairs_other_than_ab\": k, \"layers\": [{\"layer\": L, \"norm\": x}, …]}` (`normalised`: "
                + "whether readers rescale across behaviours; items answering (C)… are kept, as CAA keeps them)."),
        progress: .checkpointed(what: "a behaviour's running sums", packed: true),
        sources: ["Pipeline/Stages/CAAVectorsStage.swift", "Pipeline/Stages/CAAStageData.swift", "Pipeline/Stages/CellCheckpoint.swift",
                  "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/NonFiniteError.swift", "Experiments/CAA"],
        runner: .caaVectors)
}

/// The parameters of `caa_vectors` (the behaviour is a cell's coordinate).
struct CAAVectorsParams: Decodable {
    var layers: [Int]?
    var format: String
    var normalise: Bool
    var maxItems: Int?
    var batchSize: Int
    enum CodingKeys: String, CodingKey {
        case layers, format, normalise, maxItems = "max_items", batchSize = "batch_size"
    }
}
