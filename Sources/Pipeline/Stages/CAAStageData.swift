import Engine
import Experiments
import Foundation
import ModelFormats

/// What the CAA stages read: a behaviour's items from a manifest dataset (a CAA JSON file, split applied), the
/// behaviour's name, and the vectors of a `caa_vectors` stage (normalised across behaviours when that stage asks).
enum CAAStageData {
    /// The behaviour a dataset is about: the descriptor's name without `caa_` when the manifest named a CAA
    /// dataset (`{"dataset": "caa_sycophancy", "file": "generate"}` → `sycophancy`), else the manifest's name for it
    /// up to its first `.` (`sycophancy.gen` and `sycophancy.ab` are both `sycophancy`).
    static func behaviour(_ ref: DatasetRef) -> String {
        if let catalog = ref.catalogName, catalog.hasPrefix("caa_") { return String(catalog.dropFirst(4)) }
        return String(ref.name.prefix { $0 != "." })
    }

    /// A behaviour named by a manifest string — `sycophancy`, `caa_sycophancy`, or a dataset use such as
    /// `sycophancy.open:test` — as CAA's behaviour name.
    static func behaviour(named text: String) -> String {
        CAASystemPrompts.key(String(text.prefix { $0 != "." && $0 != ":" }))
    }

    /// The dataset a cell's coordinate (or the stage's parameter) names: `name` or `name:split`.
    static func dataset(_ context: StageContext, use text: String) throws -> (DatasetRef, DatasetSplit?) {
        let use = DatasetUse(parsing: text)
        guard let ref = context.datasets.first(where: { $0.name == use.dataset }) else {
            throw StageInputError("stage \(context.stage.id): no dataset \(use.dataset) in the manifest")
        }
        return (ref, use.split.flatMap { ref.split($0) })
    }

    /// The items of a CAA file (behaviour or side-effect set, told apart by its keys), read through the stage's key
    /// check, the split's rows kept in split order.
    static func items(_ context: StageContext, use text: String) throws -> (ref: DatasetRef, items: [BehaviourItem]) {
        let (ref, split) = try dataset(context, use: text)
        guard case .behaviourItems(let items) = try StageDataset.load(ref, split: split, files: context.datasetFiles) else {
            throw StageInputError("stage \(context.stage.id): dataset \(ref.name) (\(ref.url.path)) is not a CAA A/B file "
                + "(a JSON list with answer_matching_behavior, or MMLU/TruthfulQA's prompt and correct)")
        }
        return (ref, items)
    }

    /// An A/B item as the scorer reads it: `… [/INST] (` in `format`, with its steering start; a prompt without the
    /// format's marker is an error naming the item and its set.
    static func abPrompt(_ context: StageContext, _ item: BehaviourItem, format: CAAPromptFormat, systemPrompt: String?,
                         model: StageModel, source: String) throws -> CAAABScorer.Prompt {
        let tokens = format.tokens(question: item.question, answer: "(", systemPrompt: systemPrompt, tokenizer: model.tokenizer)
        do {
            return CAAABScorer.Prompt(tokens: tokens, start: try format.steeringStart(in: tokens, tokenizer: model.tokenizer), matching: item.matching)
        } catch {
            throw StageInputError("stage \(context.stage.id): item \(item.index) of \(source): \(error)")
        }
    }

    /// The prompt format the stage's `format` parameter names, with the model's template for `chat`.
    static func format(_ context: StageContext, _ name: String, model: StageModel) -> CAAPromptFormat {
        CAAPromptFormat(name: name, template: model.template)
    }

    /// Behaviour → layer → vector from the `caa_vectors` stage feeding `slot`: each cell's control-vector file, and,
    /// when that stage's `normalise` is true, every layer's vectors rescaled to the behaviours' mean norm there
    /// (CAA's `normalize_vectors.py`).
    static func vectors(_ context: StageContext, slot: String = "vectors") throws -> [String: [Int: [Float]]] {
        guard let source = context.input(slot) else { throw StageInputError("stage \(context.stage.id): input `\(slot)` is not connected") }
        var raw: [String: [Int: [Float]]] = [:]
        for cell in source.cells {
            guard let name = cell.outputs["behaviour"]?.stringValue, let ref = cell.artifacts[StageArtifact.vectors] else {
                throw StageInputError("stage \(context.stage.id): cell \(cell.index) of \(source.stageID) stored no behaviour vectors")
            }
            raw[name] = try ControlVectorFile(contentsOf: context.store.artifactURL(ref)).directions
        }
        guard source.cells.first?.outputs["normalised"]?.boolValue == true else { return raw }
        let layers = Set(raw.values.flatMap(\.keys))
        var out: [String: [Int: [Float]]] = raw.mapValues { _ in [:] }
        for layer in layers {
            let atLayer = raw.compactMapValues { $0[layer] }
            for (behaviour, v) in BehaviourNormalisation.normalised(atLayer) { out[behaviour]![layer] = v }
        }
        return out
    }
}
