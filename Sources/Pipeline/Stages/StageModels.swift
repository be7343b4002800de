import Engine
import Foundation
import ModelFormats
import Synchronization

/// The model a stage computes with: the manifest's model (loaded once per process and shared by every stage),
/// changed as the stage's `variant` parameter asks — steered by a vector at a layer × multiplier (online
/// interventions) or with the tensors of a `tune` stage's variant file swapped in.
public struct StageModel: Sendable {
    public var language: LanguageModel
    /// The chat template prompts are rendered with (the manifest's override, else the model's own, else ChatML).
    public var template: ChatTemplate
    /// Interventions every forward pass of this variant applies (steering); empty for base and tuned models.
    public var interventions: [Intervention]
    /// Human-readable name of the variant (`base`, `steered L10 ×8`, `tuned honesty_tune`).
    public var label: String

    public var network: LlamaModel { language.network }
    public var tokenizer: Tokenizer { language.tokenizer }
}

/// Errors of loading a stage's model or its inputs, naming the stage and what was missing.
public struct StageInputError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Models loaded by this process, by file path, weights policy and the content digest the run planned them with:
/// stages share one copy, and a file edited between two runs is loaded again.
private let loadedModels = Mutex<[String: LanguageModel]>([:])

extension StageContext {
    /// The manifest's model without changes, its weights held as the manifest's `weights` says.
    public func baseModel() throws -> StageModel {
        let path = model.url.standardizedFileURL.path
        let cacheKey = path + "#" + model.weights.rawValue + "#" + (contentDigests[PlanDigests.key(model.url)] ?? "")
        let language: LanguageModel
        if let cached = loadedModels.withLock({ $0[cacheKey] }) {
            language = cached
        } else {
            guard FileManager.default.fileExists(atPath: path) else {
                throw StageInputError("stage \(stage.id): model file \(path) is missing (run `make setup` for the default model)")
            }
            log("loading model \(model.url.lastPathComponent) (weights: \(model.weights.rawValue))")
            let loaded = try LanguageModel(path: model.url, weights: model.weights)
            try verifyModel(model.url, what: "the model")
            loadedModels.withLock { $0[cacheKey] = loaded }
            language = loaded
        }
        let template = try model.template.map { try ChatTemplate(named: $0) } ?? language.chatTemplate ?? ChatTemplate(format: .chatml)
        return StageModel(language: language, template: template, interventions: [], label: "base")
    }

    /// A parameter's value in `cell`: the cell's coordinate when the parameter is a grid axis, else the parameter.
    public func value(_ name: String, axis: String? = nil, in cell: SweepCell?) -> JSONValue? {
        cell?[axis ?? name] ?? params[name]
    }

    /// The model variant the stage's `variant`, `layer`, `multiplier` and `tuned_cell` parameters select (layer
    /// and multiplier from `cell` when they are grids).
    public func modelVariant(cell: SweepCell? = nil) throws -> StageModel {
        var m = try baseModel()
        switch params["variant"]?.stringValue ?? "base" {
        case "steered":
            guard let layer = value("layer", in: cell)?.intValue, let multiplier = value("multiplier", in: cell)?.doubleValue else {
                throw StageInputError("stage \(stage.id): the steered variant needs `layer` and `multiplier`")
            }
            let (steer, label) = try steering(layer: layer, multiplier: multiplier)
            m.interventions = [steer]
            m.label = label
        case "tuned":
            guard let tuned = input("tuned") else { throw StageInputError("stage \(stage.id): the tuned variant needs a `tuned` input") }
            let index = params["tuned_cell"]?.intValue ?? 0
            guard let tunedCell = tuned.cells.first(where: { $0.index == index }) else {
                throw StageInputError("stage \(stage.id): tuned input \(tuned.stageID) has no cell \(index) (it has \(tuned.cells.count))")
            }
            guard let ref = tunedCell.artifacts[StageArtifact.variant] else {
                throw StageInputError("stage \(stage.id): cell \(index) of \(tuned.stageID) stored no `\(StageArtifact.variant)` artifact")
            }
            let file = try GGUFFile(contentsOf: store.artifactURL(ref))
            m.language.network = try m.network.applying(variant: file)
            m.label = "tuned \(tuned.stageID)"
            // Robustness: a tuned model steered as well, when a layer, a multiplier and a vector are given.
            if let layer = value("layer", in: cell)?.intValue, let multiplier = value("multiplier", in: cell)?.doubleValue,
               input("vector") != nil {
                let (steer, label) = try steering(layer: layer, multiplier: multiplier)
                m.interventions = [steer]
                m.label += " " + label
            }
        default:
            break
        }
        return m
    }

    /// Adding `multiplier` × the `vector` input's direction to the output of block `layer`, and its label.
    private func steering(layer: Int, multiplier: Double) throws -> (Intervention, String) {
        let vector = try steeringDirections(slot: "vector")
        guard let v = vector[layer] else {
            throw StageInputError("stage \(stage.id): the vector input has no direction for layer \(layer) (it has \(vector.keys.sorted()))")
        }
        return (.steer(layer: layer, vector: v, multiplier: Float(multiplier)), "steered L\(layer) ×\(PythonNumber.format(multiplier))")
    }

    /// Per-layer unit directions stored by the `vectors` stage feeding `slot` (block index → vector).
    public func steeringDirections(slot: String) throws -> [Int: [Float]] {
        guard let source = input(slot) else { throw StageInputError("stage \(stage.id): input `\(slot)` is not connected") }
        guard let cell = source.cells.first, let ref = cell.artifacts[StageArtifact.vectors] else {
            throw StageInputError("stage \(stage.id): input \(source.stageID) stored no `\(StageArtifact.vectors)` artifact")
        }
        return try ControlVectorFile(contentsOf: store.artifactURL(ref)).directions
    }
}

/// Names of the artifacts stages store and read (see docs/RESULTS.md).
public enum StageArtifact {
    /// `collect_activations`: the activation matrix of every prompt at every captured layer.
    public static let activations = "activations"
    /// `vectors`: the per-layer directions as a llama.cpp control-vector GGUF (`direction.N` = output of block N).
    public static let vectors = "vectors"
    /// `tune`: the tuned tensors as an F32 GGUF that `LlamaModel.applying(variant:)` loads onto the base model.
    public static let variant = "variant"
}

/// Numbers printed as Python prints them (`8`, `-0.5`), for labels.
enum PythonNumber {
    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
