import Engine
import Experiments
import Foundation

extension StageRunner {
    /// `vectors`: one behaviour direction per layer from the collected activations (mean difference or a
    /// principal component, METHOD.md §3), stored as a llama.cpp control-vector GGUF, with per-layer diagnostics:
    /// AUROC of honest vs dishonest projections, explained variance, norm, and the logit lens (top-10 tokens of
    /// +v and −v).
    public static var vectors: StageRunner {
        .perCell(memoryEstimate: { _ in 1 << 30 }) { context, stageCell in
            let p = try context.decodeParams(VectorsParams.self)
            if p.import != nil { return try importedVectors(context) }
            guard let source = context.input("activations"), let cell = source.cells.first,
                  let ref = cell.artifacts[StageArtifact.activations] else {
                throw StageInputError("stage \(context.stage.id): input `activations` stored no activation artifact")
            }
            let acts = try ActivationArtifact(contentsOf: context.store.artifactURL(ref))
            let offset: Int
            if let position = p.position {
                guard acts.offsets.contains(-position) else {
                    throw StageInputError("stage \(context.stage.id): position \(position) was not collected by \(source.stageID) "
                        + "(it has \(acts.offsets.map { -$0 }))")
                }
                offset = -position
            } else {
                offset = acts.offsets[0]
            }
            let method: VectorMethod = p.method == "pca" ? .pca(component: p.component, onDifferences: p.on != "raw") : .meanDifference
            let vector = BehaviourVector(method: method, honest: acts.positive[offset]!, dishonest: acts.negative[offset]!)
            var directions = vector.directions
            if !p.normalize {
                for (l, v) in directions { directions[l] = v.map { $0 * Float(vector.diagnostics[l]!.norm) } }
            }
            let model = try context.baseModel()
            var rows: [JSONValue] = []
            for l in acts.layers {
                let d = vector.diagnostics[l]!, v = vector.directions[l]!
                rows.append(.object([
                    "layer": .int(l), "auroc": .double(d.auroc), "explained_variance": .double(d.explainedVariance),
                    "norm": .double(d.norm), "lens_positive": lensTokens(v, model), "lens_negative": lensTokens(v.map { -$0 }, model),
                ]))
            }
            if let layer = directions.keys.sorted().first(where: { !directions[$0]!.allSatisfy(\.isFinite) }) {
                throw NonFiniteError(stage: context.stage.id, cells: [stageCell], what: "the direction of layer \(layer)",
                                     setting: "deriving vectors from \(source.stageID)")
            }
            let file = ControlVectorFile(directions: directions, modelHint: context.model.url.lastPathComponent)
            let artifact = try context.writeArtifact { try file.write(to: $0, layerCount: model.network.config.blockCount) }
            let best = acts.layers.max { vector.diagnostics[$0]!.auroc < vector.diagnostics[$1]!.auroc }!
            return CellResult(
                metrics: ["best_auroc": vector.diagnostics[best]!.auroc, "best_layer": Double(best)],
                outputs: .object([
                    "method": .string(p.method),
                    "position": .int(-offset), "layers": .array(rows),
                ]),
                artifacts: [StageArtifact.vectors: artifact])
        }
    }

    /// The `import` form: a llama.cpp control-vector GGUF named by a dataset, checked against the model's width and
    /// depth, stored as this stage's vectors (lens diagnostics included; no AUROC without activations).
    static func importedVectors(_ context: StageContext) throws -> CellResult {
        guard let (ref, _) = context.dataset("import") else {
            throw StageInputError("stage \(context.stage.id): `import` names no dataset of the manifest")
        }
        // The bytes read once, checked against the stage's key, stored, and parsed from the stored copy.
        let artifact = try context.writeArtifact(try context.readKeyed(ref.url, what: "dataset \(ref.name)"))
        let file = try ControlVectorFile(contentsOf: context.store.artifactURL(artifact))
        let model = try context.baseModel()
        let c = model.network.config
        var rows: [JSONValue] = []
        for layer in file.directions.keys.sorted() {
            guard layer < c.blockCount else {
                throw StageInputError("\(ref.url.path): direction.\(layer) is beyond the model's \(c.blockCount) blocks")
            }
            let v = try file.direction(layer: layer, width: c.embeddingLength, source: ref.url.path)
            let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            rows.append(.object(["layer": .int(layer), "norm": .double(norm),
                                 "lens_positive": lensTokens(v, model), "lens_negative": lensTokens(v.map { -$0 }, model)]))
        }
        return CellResult(metrics: ["layers": Double(rows.count)],
                          outputs: .object(["method": .string("import"), "file": .string(ref.path), "layers": .array(rows)]),
                          artifacts: [StageArtifact.vectors: artifact])
    }

    /// The logit lens of `v`: its top-10 tokens, decoded (a stored diagnostic of every vector).
    static func lensTokens(_ v: [Float], _ model: StageModel) -> JSONValue {
        .array(model.network.logitLensTop(v, k: 10).map { .string(model.tokenizer.decode([$0])) })
    }
}

extension StageKind {
    public static let vectors = StageKind(declaring: "vectors")
}

extension StageDeclaration {
    /// Behaviour directions per layer (METHOD.md §3).
    public static let vectors = StageDeclaration(
        StageKindSpec(
            .vectors,
            summary: "Derives one steering vector per layer from collected activations.",
            params: [
                ParamSpec("method", .choice(["mean_diff", "pca"]), .defaulted(.string("mean_diff")),
                          doc: "`mean_diff`: mean over pairs of (honest − dishonest); `pca`: a principal component."),
                ParamSpec("component", .integer(min: 1, max: ManifestFields.maxTokens), .defaulted(.int(1)), model: .width,
                          doc: "PCA only: which principal component (1 = largest variance)."),
                ParamSpec("on", .choice(["raw", "differences"]), .defaulted(.string("differences")),
                          doc: "PCA only: fit on pooled raw activations or on pair differences."),
                ParamSpec("normalize", .boolean, .defaulted(.bool(true)),
                          doc: "Scale each layer's vector to unit length."),
                ParamSpec("import", .dataset, .optional,
                          doc: "Instead of computing: a dataset naming a llama.cpp control-vector GGUF (`direction.N` = "
                               + "the direction added to the output of block N) to use as this stage's vectors."),
                ParamSpec("position", StageCatalog.offset, .optional, model: .offsetBack,
                          doc: "Which collected position the vectors come from (0 = last prompt token, -7 = seven "
                               + "before it); absent = the one nearest the end."),
            ],
            inputs: [
                InputSpec("activations", accepts: [.collectActivations], required: false,
                          doc: "The collected contrast activations (required unless `import` is given)."),
            ],
            rules: [ParamRule(whenAbsent: "import", requiresInputs: ["activations"])]),
        version: 1,
        params: VectorsParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("best_auroc", "AUROC", "The highest AUROC of honest vs dishonest projections over the layers."),
                .init("best_layer", "block", "The layer with that AUROC."),
                .init("layers", "count", "`import` only: directions in the imported file."),
            ],
            artifacts: [.init(StageArtifact.vectors, "GGUF", "A llama.cpp control-vector GGUF (`controlvector.layer_count`, "
                + "`direction.N` = the direction added to the output of block N, unit length unless `normalize` is false) "
                + "holding every collected block, block 0 included.")],
            notes: "One cell. Outputs: `{\"method\": \"mean_diff\", \"position\": p, \"layers\": [{\"layer\": L, \"auroc\": a, "
                + "\"explained_variance\": e, \"norm\": n, \"lens_positive\": [\"tok\", …10], \"lens_negative\": [… 10]}, …]}` "
                + "(`import`: `{\"method\": \"import\", \"file\": …, \"layers\": [{\"layer\", \"norm\", lens…}]}`). llama.cpp numbers "
                + "directions from 1 and refuses a file holding `direction.0`, so `reptune export --stage <vectors stage>` writes "
                + "blocks 1 and up."),
        sources: ["Pipeline/Stages/VectorsStage.swift", "Pipeline/Stages/ActivationArtifact.swift", "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift", "Experiments/Vectors"],
        runner: .vectors)
}

/// The parameters of `vectors` (defaults and docs: its declaration).
struct VectorsParams: Decodable {
    var method: String
    var component: Int
    var on: String
    var normalize: Bool
    var `import`: String?
    var position: Int?
}
