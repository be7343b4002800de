import Engine
import Foundation
import ModelFormats

/// The checks of a decoded manifest that look across stages or into its files, run at plan time so that nothing
/// fails late after other cells ran, each reported with the JSON path of the value at fault:
/// - across stages: a `vectors` stage's `position` among those its input collected, steered and cosine-loss layers
///   among those the vector input has, `tuned_cell` among the tune stage's cells, `stride` at most `window`;
/// - against the model's header (no weights loaded): every parameter's `ModelLimit` (blocks,
///   token budgets, windows, offsets, components) and the depth and width of a vector file a stage imports;
/// - against the data: each split's rows within the rows its dataset has.
struct ManifestFileChecks {
    let manifest: Manifest
    let checkFiles: Bool
    /// The model's hyperparameters, when its file is here and readable.
    private(set) var config: ModelConfig?
    private(set) var errors: [ManifestError] = []
    private let byID: [String: StageSpec]

    init(_ manifest: Manifest, checkFiles: Bool) {
        self.manifest = manifest
        self.checkFiles = checkFiles
        byID = Dictionary(manifest.stages.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Every problem found, in manifest order.
    static func errors(_ manifest: Manifest, checkFiles: Bool) -> [ManifestError] {
        var checks = ManifestFileChecks(manifest, checkFiles: checkFiles)
        checks.run()
        return checks.errors
    }

    mutating func run() {
        if checkFiles { readModel() }
        if checkFiles { checkSplits() }
        var importedLayers: [String: Set<Int>] = [:]
        for stage in manifest.stages {
            if config != nil { checkModelLimits(stage) }
            switch stage.kind {
            case .vectors:
                checkPosition(stage)
                if let layers = checkImport(stage) { importedLayers[stage.id] = layers }
            case .perplexity:
                if let stride = stage.params["stride"]?.intValue, let window = stage.params["window"]?.intValue, stride > window {
                    fail(stage, "stride", .int(stride), expected: "at most `window` (\(window)) tokens", found: "\(stride)")
                }
            default: break
            }
        }
        for stage in manifest.stages {
            checkSteeredLayers(stage, imported: importedLayers)
            checkTunedCell(stage)
        }
    }

    // MARK: helpers

    private mutating func fail(_ stage: StageSpec, _ param: String, _ value: JSONValue, expected: String, found: String) {
        let source = stage.sources[param] ?? ParamSource(path: JSONPath("stages") + stage.index + "params" + param, written: value)
        let (path, location) = source.locate(value)
        let error = ManifestError(path: path, location: location, expected: expected, found: found)
        if !errors.contains(error) { errors.append(error) }
    }

    /// The integers a parameter holds (one, or each of a grid or list).
    private func ints(_ stage: StageSpec, _ param: String) -> [Int] {
        guard let v = stage.params[param] else { return [] }
        return v.arrayValue?.compactMap(\.intValue) ?? v.intValue.map { [$0] } ?? []
    }

    // MARK: the model

    /// The model's hyperparameters from its header alone: a GGUF's metadata or a Hugging Face `config.json`.
    private mutating func readModel() {
        let url = manifest.model.url
        do {
            switch InputFile.kind(of: url) {
            case .directory?: config = try ModelConfig(huggingFaceConfig: url.appendingPathComponent("config.json"))
            case .regularFile?:
                if let problem = SafeTensorsFile.bareFileProblem(url) { throw ModelLoadError(file: url.path, problem) }
                config = try ModelConfig(gguf: GGUFFile(contentsOf: url))
            default: return   // missing (a dry run may plan without it) or not a file: the decoder reported it
            }
        } catch {
            errors.append(ManifestError(path: "model", expected: "a model reptune can read (a Llama-family GGUF file or a Hugging Face model directory)",
                                        found: "\(error)"))
        }
    }

    private mutating func checkModelLimits(_ stage: StageSpec) {
        guard let c = config else { return }
        let name = manifest.model.name ?? manifest.model.url.lastPathComponent
        for p in stage.kind.spec.params {
            guard let limit = p.modelLimit else { continue }
            for v in ints(stage, p.name) {
                switch limit {
                case .block where v >= c.blockCount:
                    fail(stage, p.name, .int(v), expected: "a block of the model (0...\(c.blockCount - 1))",
                         found: "block \(v) (\(name) has \(c.blockCount) blocks)")
                case .newTokens where v >= c.contextLength:
                    fail(stage, p.name, .int(v), expected: "at most \(c.contextLength - 1) new tokens (\(name)'s context is \(c.contextLength) tokens, and a prompt takes at least one)",
                         found: "\(v)")
                case .window where v > c.contextLength:
                    fail(stage, p.name, .int(v), expected: "at most \(c.contextLength) tokens (\(name)'s context)", found: "\(v)")
                case .offsetBack where -v >= c.contextLength:
                    fail(stage, p.name, .int(v), expected: "an offset within \(name)'s context of \(c.contextLength) tokens (≥ \(1 - c.contextLength))",
                         found: "\(v)")
                case .width where v > c.embeddingLength:
                    fail(stage, p.name, .int(v), expected: "at most \(c.embeddingLength) (\(name)'s residual width)", found: "\(v)")
                default: break
                }
            }
        }
        checkRecordBlocks(stage, blockCount: c.blockCount, model: name)
    }

    /// The blocks inside record parameters (a `steer` entry's `layers`), against the model's depth, each error at
    /// its own place (`stages[2].params.steer[1].layers[0]`).
    private mutating func checkRecordBlocks(_ stage: StageSpec, blockCount: Int, model name: String) {
        for p in stage.kind.spec.params {
            var type = p.type
            if case .list(let element) = type { type = element }
            guard case .record(_, let fields) = type, let value = stage.params[p.name] else { continue }
            let source = stage.sources[p.name] ?? ParamSource(path: JSONPath("stages") + stage.index + "params" + p.name, written: value)
            let entries = value.arrayValue ?? [value]
            for (i, entry) in entries.enumerated() {
                for field in fields where field.modelLimit == .block {
                    for (j, block) in (entry[field.name]?.arrayValue ?? entry[field.name].map { [$0] } ?? []).enumerated() {
                        guard let v = block.intValue, v >= blockCount else { continue }
                        let written = (value.arrayValue == nil ? source.written : source.written.arrayValue?[i])?[field.name]
                        let path = (value.arrayValue == nil ? source.path : source.path + i) + field.name
                        let error = ManifestError(path: written?.arrayValue == nil ? path : path + j,
                                                  location: (written?.arrayValue?[j] ?? written)?.location,
                                                  expected: "a block of the model (0...\(blockCount - 1))", found: "block \(v) (\(name) has \(blockCount) blocks)")
                        if !errors.contains(error) { errors.append(error) }
                    }
                }
            }
        }
    }

    // MARK: vectors

    /// A `vectors` stage's `position` must be one its activations input collects.
    private mutating func checkPosition(_ stage: StageSpec) {
        guard stage.params["import"] == nil, let p = stage.params["position"]?.intValue,
              let source = stage.inputs.first(where: { $0.slot == "activations" })?.stages.first,
              let collect = byID[source] else { return }
        let collected = ints(collect, "positions")
        guard !collected.isEmpty, !collected.contains(p) else { return }
        fail(stage, "position", .int(p), expected: "one of the positions \(source) collects (\(collected.map(String.init).joined(separator: ", ")))",
             found: "\(p)")
    }

    /// The vector file a `vectors` stage imports, against the model's depth and width; returns its layers.
    private mutating func checkImport(_ stage: StageSpec) -> Set<Int>? {
        guard checkFiles, let use = stage.params["import"]?.stringValue,
              let ref = manifest.dataset(DatasetUse(parsing: use).dataset) else { return nil }
        let file: ControlVectorFile
        do {
            file = try ControlVectorFile(contentsOf: ref.url)
        } catch {
            fail(stage, "import", .string(use), expected: "a dataset naming a control-vector GGUF", found: "\(error)")
            return nil
        }
        if let c = config {
            for (layer, v) in file.directions.sorted(by: { $0.key < $1.key }) {
                if layer >= c.blockCount {
                    fail(stage, "import", .string(use), expected: "directions for blocks 0...\(c.blockCount - 1) of the model",
                         found: "direction.\(layer) in \(ref.url.path)")
                } else if v.count != c.embeddingLength {
                    fail(stage, "import", .string(use), expected: "directions of the model's residual width \(c.embeddingLength)",
                         found: "direction.\(layer) with \(v.count) values in \(ref.url.path)")
                }
            }
        }
        return Set(file.directions.keys.filter { $0 >= 0 })
    }

    /// The layers the `vectors` stage `id` will have directions for, when known before running.
    private func vectorLayers(_ id: String, imported: [String: Set<Int>]) -> Set<Int>? {
        guard let v = byID[id], v.kind == .vectors else { return nil }
        if v.params["import"] != nil { return imported[id] }
        guard let source = v.inputs.first(where: { $0.slot == "activations" })?.stages.first, let collect = byID[source] else { return nil }
        // Without `layers` it collects every block: the block check covers that.
        return collect.params["layers"] != nil ? Set(ints(collect, "layers")) : nil
    }

    /// Layers a stage steers at (or tunes a cosine loss at) must be layers its vector input has.
    private mutating func checkSteeredLayers(_ stage: StageSpec, imported: [String: Set<Int>]) {
        guard let source = stage.inputs.first(where: { $0.slot == "vector" })?.stages.first,
              let available = vectorLayers(source, imported: imported) else { return }
        let params: [String]
        switch stage.kind {
        case .steeringSweep: params = ["layers"]
        case .evaluate, .perplexity: params = ["layer"]
        case .tune: params = stage.params["loss_layers"] != nil ? ["loss_layers"] : ["layers"]
        default: params = []
        }
        for p in params {
            for layer in ints(stage, p) where !available.contains(layer) {
                fail(stage, p, .int(layer), expected: "a layer the vector input \(source) has (\(available.sorted().map(String.init).joined(separator: ", ")))",
                     found: "layer \(layer)")
            }
        }
    }

    /// `tuned_cell` must be a cell of the `tuned` input.
    private mutating func checkTunedCell(_ stage: StageSpec) {
        guard stage.params["variant"]?.stringValue == "tuned", let cell = stage.params["tuned_cell"]?.intValue,
              let source = stage.inputs.first(where: { $0.slot == "tuned" })?.stages.first,
              let tune = byID[source], cell >= tune.cells.count else { return }
        fail(stage, "tuned_cell", .int(cell), expected: "a cell of \(source) (0...\(tune.cells.count - 1))", found: "\(cell)")
    }

    // MARK: datasets

    /// Each split's rows must lie within its dataset (read with the parser a stage would use).
    private mutating func checkSplits() {
        for ref in manifest.datasets where !ref.splits.isEmpty {
            switch InputFile.kind(of: ref.url) {
            case .regularFile?, .directory?: break
            default: continue   // the decoder reported it
            }
            let base = JSONPath("datasets") + ref.name
            let count: Int
            do {
                let loaded = try StageDataset.load(ref, split: nil)
                if case .paperOutputs = loaded {
                    for split in ref.splits {
                        errors.append(ManifestError(path: base + "splits" + split.name, expected: "a dataset with rows to split",
                                                    found: "the paper's stored-outputs directory \(ref.url.path)"))
                    }
                    continue
                }
                count = loaded.count
            } catch {
                errors.append(ManifestError(path: base + "path", expected: "a dataset file reptune can read", found: "\(error)"))
                continue
            }
            for split in ref.splits {
                let path = base + "splits" + split.name
                switch split.selection {
                case .rows(let r) where r.upperBound > count:
                    errors.append(ManifestError(path: path + "rows", expected: "rows within the \(count) rows of \(ref.url.lastPathComponent)",
                                                found: "[\(r.lowerBound), \(r.upperBound)]"))
                case .indices(let indices):
                    if let bad = indices.firstIndex(where: { $0 >= count }) {
                        errors.append(ManifestError(path: path + "indices" + bad, expected: "a row index below \(count) (the rows of \(ref.url.lastPathComponent))",
                                                    found: "\(indices[bad])"))
                    }
                case .file(_, let url):
                    guard case .regularFile? = InputFile.kind(of: url) else { continue }   // the decoder reported it
                    // The paper's tuning split (a JSON object) is checked by the tune stage against the CSV's digest.
                    if let head = try? InputFile.read(url, what: "split file", maxBytes: InputFile.Limit.smallText),
                       String(decoding: head, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") { continue }
                    do { _ = try split.indices(count: count, dataset: ref.name) } catch {
                        errors.append(ManifestError(path: path + "file", expected: "row indices within the \(count) rows of \(ref.url.lastPathComponent)",
                                                    found: "\(error)"))
                    }
                default: break
                }
            }
        }
    }
}
