import Engine
import Experiments
import Foundation
import ModelFormats

/// How a manifest is checked beyond its own text.
public struct ManifestOptions: Sendable {
    /// Check that the model, dataset and split files exist.
    public var checkFiles: Bool
    /// Extra directories searched (after the manifest's directory and its parents) for named models' `models/…`.
    public var modelSearchDirectories: [URL]
    /// Whether a missing model file is an error (false for `--dry-run`, which plans a manifest for a model that
    /// is not on this machine, e.g. the paper's Llama-2-13b).
    public var requireModel: Bool
    /// What a named dataset (`{"dataset": "gpt4_facts"}`) resolves through: the descriptors and the mirror.
    /// Without it a manifest can give paths only.
    public var datasets: DatasetLibrary?

    public init(checkFiles: Bool = true, modelSearchDirectories: [URL] = [], requireModel: Bool = true,
                datasets: DatasetLibrary? = nil) {
        self.checkFiles = checkFiles
        self.modelSearchDirectories = modelSearchDirectories
        self.requireModel = requireModel
        self.datasets = datasets
    }
}

extension Manifest {
    /// Reads and validates a manifest file; throws `ManifestErrors` listing every problem found.
    public static func load(from file: URL, options: ManifestOptions = ManifestOptions()) throws(ManifestErrors) -> Manifest {
        let data: Data
        do {
            data = try InputFile.read(file, what: "manifest", maxBytes: InputFile.Limit.smallText)
        } catch {
            throw ManifestErrors(file: file.path, errors: [ManifestError(
                path: .root, expected: "a readable manifest file (\(error.expected))", found: error.found)])
        }
        return try decode(data, file: file, options: options)
    }

    /// Validates manifest text. `file` names it in errors and anchors relative paths (default: the working
    /// directory). Never traps on malformed input: it returns a manifest or throws every error found.
    public static func decode(_ data: Data, file: URL? = nil, baseDirectory: URL? = nil,
                              options: ManifestOptions = ManifestOptions()) throws(ManifestErrors) -> Manifest {
        let label = file?.path ?? "<manifest>"
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(data))
        } catch {
            throw ManifestErrors(file: label, errors: [ManifestError(
                path: .root, location: error.location, expected: "valid JSON", found: error.message)])
        }
        let base = baseDirectory ?? file?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var decoder = ManifestDecoder(options: options, base: base)
        let text = String(decoding: data, as: UTF8.self)
        guard let manifest = decoder.decode(root, text: text, file: file) else {
            throw ManifestErrors(file: label, errors: decoder.errors)
        }
        // Checks across stages and against the model's header and the data, on what decoded (all errors at once).
        let errors = decoder.errors + ManifestFileChecks.errors(manifest, checkFiles: options.checkFiles)
        guard errors.isEmpty else { throw ManifestErrors(file: label, errors: errors) }
        return manifest
    }

    public static func decode(_ text: String, file: URL? = nil, baseDirectory: URL? = nil,
                              options: ManifestOptions = ManifestOptions()) throws(ManifestErrors) -> Manifest {
        try decode(Data(text.utf8), file: file, baseDirectory: baseDirectory, options: options)
    }
}

/// The validator: walks the parsed JSON once, collecting every error with its path, and builds the `Manifest`.
struct ManifestDecoder {
    let options: ManifestOptions
    let base: URL
    var errors: [ManifestError] = []
    private var reported: Set<String> = []

    init(options: ManifestOptions, base: URL) {
        self.options = options
        self.base = base
    }

    // MARK: error helpers

    mutating func fail(_ path: JSONPath, _ at: SourceLocation?, expected: String, found: String, suggestion: String? = nil) {
        let e = ManifestError(path: path, location: at, expected: expected, found: found, suggestion: suggestion)
        if reported.insert(e.description).inserted { errors.append(e) }
    }

    mutating func wrongType(_ path: JSONPath, _ value: JSONValue, expected: String) {
        fail(path, value.location, expected: expected, found: value.summary)
    }

    /// The members of an object, reporting unknown keys (with near-miss suggestions) against `known`.
    mutating func members(_ value: JSONValue, _ path: JSONPath, known: [String], what: String) -> [JSONMember]? {
        guard let members = value.objectValue else {
            wrongType(path, value, expected: "\(what) (a JSON object)")
            return nil
        }
        for m in members where !known.contains(m.key) {
            fail(path + m.key, m.keyLocation, expected: "a key of \(what): \(known.joined(separator: ", "))",
                 found: "unknown key \"\(m.key)\"", suggestion: NearMiss.suggestion(for: m.key, in: known))
        }
        return members
    }

    mutating func requireKeys(_ members: [JSONMember], _ fields: [FieldDoc], _ path: JSONPath, _ at: SourceLocation?) {
        for f in fields where f.required && !members.contains(where: { $0.key == f.name }) {
            fail(path + f.name, at, expected: "\(f.type) (required)", found: "nothing")
        }
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 100 && s.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == ".")
        }
    }

    mutating func identifier(_ value: JSONValue, _ path: JSONPath, what: String) -> String? {
        guard let s = value.stringValue else { wrongType(path, value, expected: what); return nil }
        guard Self.isIdentifier(s) else {
            fail(path, value.location, expected: "\(what) made of letters, digits, _, - and . (at most 100)",
                 found: value.summary)
            return nil
        }
        return s
    }

    // MARK: files

    func resolve(_ path: String) -> URL { Self.resolve(path, against: base) }

    /// A path as a manifest writes it: absolute, `~/…`, or relative to the manifest's folder `base`.
    static func resolve(_ path: String, against base: URL) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL }
        if path.hasPrefix("~/") {
            return URL(fileURLWithPath: NSString(string: path).expandingTildeInPath).standardizedFileURL
        }
        return base.appendingPathComponent(path).standardizedFileURL
    }

    /// Checks that `url` is a regular file (or, when `directoryAllowed`, a directory): a device or FIFO such as
    /// `/dev/zero` would be read forever.
    mutating func checkExists(_ url: URL, _ path: JSONPath, _ value: JSONValue, what: String, directoryAllowed: Bool = false) {
        guard options.checkFiles else { return }
        switch InputFile.kind(of: url) {
        case nil:
            fail(path, value.location, expected: "an existing \(what)", found: "no such file: \(url.path)")
        case .regularFile?: break
        case .directory? where directoryAllowed: break
        case let other?:
            fail(path, value.location, expected: "an existing \(what) (\(directoryAllowed ? "a regular file or a directory" : "a regular file"))",
                 found: "\(other.name): \(url.path)")
        }
    }

    // MARK: top level

    mutating func decode(_ root: JSONValue, text: String, file: URL?) -> Manifest? {
        let known = ManifestFields.topLevel.map(\.name)
        guard let top = members(root, .root, known: known, what: "the manifest") else { return nil }
        requireKeys(top, ManifestFields.topLevel, .root, root.location)

        var name = ""
        if let v = root["name"] { name = identifier(v, "name", what: "experiment name string") ?? "" }
        var summary: String?
        if let v = root["description"] {
            if let s = v.stringValue { summary = s } else { wrongType("description", v, expected: "string") }
        }
        if let v = root["$schema"], v.stringValue == nil { wrongType(JSONPath([.key("$schema")]), v, expected: "string") }

        let model = decodeModel(root["model"])
        var datasets: [DatasetRef] = []
        if let v = root["datasets"] { datasets = decodeDatasets(v) }
        var defaults: [String: JSONValue] = [:]
        if let v = root["defaults"] { defaults = decodeDefaults(v) }

        var stages: [StageSpec] = []
        if let v = root["stages"] {
            stages = decodeStages(v, datasets: datasets, defaults: defaults)
        }
        let slurm = root["executor"].flatMap { decodeExecutor($0) }
        guard let model else { return nil }
        var manifest = Manifest(name: name, summary: summary, model: model, datasets: datasets, defaults: defaults,
                                stages: stages, file: file, baseDirectory: base, text: text)
        manifest.slurm = slurm
        return manifest
    }

    // MARK: executor

    /// `executor`: `{"slurm": {partition, time, mem, cpus_per_task, account, extra}}`.
    mutating func decodeExecutor(_ value: JSONValue) -> SlurmOptions? {
        let path: JSONPath = "executor"
        guard let ms = members(value, path, known: ["slurm"], what: "the executor object") else { return nil }
        guard let slurm = ms.first(where: { $0.key == "slurm" })?.value else { return nil }
        let sp = path + "slurm"
        guard let fields = members(slurm, sp, known: ManifestFields.slurm.map(\.name), what: "the executor.slurm object") else { return nil }
        var options = SlurmOptions()
        for m in fields {
            switch m.key {
            case "cpus_per_task":
                if let n = m.value.intValue, (1...4096).contains(n) { options.cpusPerTask = n }
                else { fail(sp + m.key, m.value.location, expected: "an integer from 1 to 4096", found: m.value.summary) }
            case "extra":
                if let items = m.value.arrayValue, items.allSatisfy({ $0.stringValue?.isEmpty == false }) {
                    options.extra = items.compactMap(\.stringValue)
                } else {
                    fail(sp + m.key, m.value.location, expected: "an array of non-empty strings (sbatch arguments)", found: m.value.summary)
                }
            default:
                guard let text = m.value.stringValue, !text.isEmpty, !text.contains(where: \.isWhitespace) else {
                    fail(sp + m.key, m.value.location, expected: "a non-empty string without spaces (sbatch --\(m.key))", found: m.value.summary)
                    continue
                }
                switch m.key {
                case "partition": options.partition = text
                case "time": options.time = text
                case "mem": options.mem = text
                default: options.account = text
                }
            }
        }
        return options
    }

    // MARK: model

    mutating func decodeModel(_ value: JSONValue?) -> ModelRef? {
        let path: JSONPath = "model"
        guard let value else { return namedModel(ModelCatalog.defaultName, path, .string(ModelCatalog.defaultName)) }
        if let s = value.stringValue {
            if ModelCatalog.named[s] != nil { return namedModel(s, path, value) }
            if s.contains("/") || s.contains(".") { return fileModel(s, template: nil, path, value) }
            fail(path, value.location, expected: "a named model (\(ModelCatalog.named.keys.sorted().joined(separator: ", "))) or a file path",
                 found: value.summary, suggestion: NearMiss.suggestion(for: s, in: Array(ModelCatalog.named.keys)))
            return nil
        }
        guard let ms = members(value, path, known: ManifestFields.model.map(\.name), what: "the model object") else { return nil }
        var template: String?
        if let t = value["template"] {
            if let s = t.stringValue, !s.isEmpty { template = s } else { wrongType(path + "template", t, expected: "non-empty string") }
        }
        var weights = WeightsPolicy.auto
        if let w = value["weights"] {
            if let s = w.stringValue, let policy = WeightsPolicy(rawValue: s) {
                weights = policy
            } else {
                fail(path + "weights", w.location, expected: ParamType.choice(ManifestFields.weightsPolicies).expected, found: w.summary,
                     suggestion: w.stringValue.flatMap { NearMiss.suggestion(for: $0, in: ManifestFields.weightsPolicies) })
            }
        }
        let name = value["name"], file = value["path"]
        switch (name, file) {
        case (let n?, nil):
            guard let s = n.stringValue else { wrongType(path + "name", n, expected: "string"); return nil }
            guard ModelCatalog.named[s] != nil else {
                fail(path + "name", n.location, expected: "one of \(ModelCatalog.named.keys.sorted().joined(separator: ", "))",
                     found: n.summary, suggestion: NearMiss.suggestion(for: s, in: Array(ModelCatalog.named.keys)))
                return nil
            }
            var ref = namedModel(s, path + "name", n)
            ref?.template = template
            ref?.weights = weights
            return ref
        case (nil, let p?):
            guard let s = p.stringValue, !s.isEmpty else { wrongType(path + "path", p, expected: "non-empty string"); return nil }
            var ref = fileModel(s, template: template, path + "path", p)
            ref.weights = weights
            return ref
        default:
            fail(path, value.location, expected: "exactly one of \"name\" and \"path\"",
                 found: name == nil ? "neither" : "both (keys \(ms.map(\.key).joined(separator: ", ")))")
            return nil
        }
    }

    mutating func namedModel(_ name: String, _ path: JSONPath, _ value: JSONValue) -> ModelRef? {
        let relative = ModelCatalog.named[name] ?? name
        var candidates: [URL] = []
        var dir = base.standardizedFileURL
        for _ in 0..<8 {
            candidates.append(dir.appendingPathComponent(relative))
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        candidates += options.modelSearchDirectories.map { $0.appendingPathComponent(relative) }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative))
        let found = candidates.first { FileManager.default.fileExists(atPath: $0.path) }
        if found == nil && options.checkFiles && options.requireModel {
            fail(path, value.location, expected: "the file \(relative) of named model \"\(name)\" under the manifest's directory, a parent of it or the working directory",
                 found: "no such file (run `make setup` to fetch it)")
        }
        return ModelRef(name: name, path: relative, url: (found ?? candidates[0]).standardizedFileURL, template: nil,
                        baseDirectory: base)
    }

    mutating func fileModel(_ file: String, template: String?, _ path: JSONPath, _ value: JSONValue) -> ModelRef {
        let url = resolve(file)
        // A dry run may plan for a model that is not here; one that is here must still be a file or a directory.
        if options.requireModel || InputFile.kind(of: url) != nil {
            checkExists(url, path, value, what: "model file or Hugging Face model directory", directoryAllowed: true)
        }
        return ModelRef(name: nil, path: file, url: url, template: template, baseDirectory: base)
    }

    // MARK: datasets

    mutating func decodeDatasets(_ value: JSONValue) -> [DatasetRef] {
        let path: JSONPath = "datasets"
        guard let entries = value.objectValue else { wrongType(path, value, expected: "object of dataset name → dataset"); return [] }
        var out: [DatasetRef] = []
        for entry in entries {
            let p = path + entry.key
            guard Self.isIdentifier(entry.key) else {
                fail(p, entry.keyLocation, expected: "dataset name made of letters, digits, _, - and .", found: "\"\(entry.key)\"")
                continue
            }
            var v = entry.value
            if let s = v.stringValue {
                let key = options.datasets?.catalog.names.contains(s) == true ? "dataset" : "path"
                v = .object([JSONMember(key: key, value: JSONValue(.string(s), location: v.location))])
            }
            guard let ms = members(v, p, known: ManifestFields.dataset.map(\.name), what: "a dataset") else { continue }
            requireKeys(ms, ManifestFields.dataset, p, v.location)
            guard let (file, url, catalogName) = datasetLocation(v, p) else { continue }
            var format: String?
            if let f = v["format"] {
                if let s = f.stringValue, ManifestFields.datasetFormats.contains(s) {
                    format = s
                } else {
                    fail(p + "format", f.location, expected: ParamType.choice(ManifestFields.datasetFormats).expected,
                         found: f.summary, suggestion: f.stringValue.flatMap { NearMiss.suggestion(for: $0, in: ManifestFields.datasetFormats) })
                }
            }
            var splits: [DatasetSplit] = []
            if let sv = v["splits"] { splits = decodeSplits(sv, p + "splits") }
            out.append(DatasetRef(name: entry.key, path: file, url: url, format: format, splits: splits, catalogName: catalogName))
        }
        return out
    }

    /// Where a dataset object points: `"dataset"` (a name of the catalog, optionally with a `"file"` role) resolved
    /// in the mirror, or `"path"` relative to the manifest — exactly one of the two. Returns the path as written
    /// (the mirror-relative path for a name), the resolved URL and the catalog name.
    mutating func datasetLocation(_ v: JSONValue, _ p: JSONPath) -> (String, URL, String?)? {
        switch (v["dataset"], v["path"]) {
        case (nil, let pv?):
            if let role = v["file"] { fail(p + "file", role.location, expected: "\"file\" only with \"dataset\"", found: role.summary) }
            guard let file = pv.stringValue, !file.isEmpty else { wrongType(p + "path", pv, expected: "non-empty string"); return nil }
            let url = resolve(file)
            if options.checkFiles, InputFile.kind(of: url) == nil {
                let near = options.datasets.flatMap { NearMiss.suggestion(for: file, in: $0.catalog.names) }
                fail(p + "path", pv.location, expected: "an existing dataset file or directory", found: "no such file: \(url.path)",
                     suggestion: near.map { "\($0) (a dataset name)" })
            } else {
                checkExists(url, p + "path", pv, what: "dataset file or directory", directoryAllowed: true)
            }
            return (file, url, nil)
        case (let nv?, nil):
            guard let name = nv.stringValue, !name.isEmpty else { wrongType(p + "dataset", nv, expected: "non-empty string"); return nil }
            var role: String?
            if let r = v["file"] {
                guard let s = r.stringValue, !s.isEmpty else { wrongType(p + "file", r, expected: "non-empty string (a file role)"); return nil }
                role = s
            }
            guard let library = options.datasets else {
                fail(p + "dataset", nv.location, expected: "a \"path\" (no dataset descriptors were given to resolve names)", found: nv.summary)
                return nil
            }
            let resolved: DatasetLibrary.Resolved
            do { resolved = try library.resolve(name, role: role) } catch {
                if case .unknownDataset = error as? DatasetError {
                    fail(p + "dataset", nv.location, expected: "one of the datasets in datasets/: \(library.catalog.names.joined(separator: ", "))",
                         found: nv.summary, suggestion: NearMiss.suggestion(for: name, in: library.catalog.names))
                } else {
                    fail(p + (role == nil ? "dataset" : "file"), (v["file"] ?? nv).location, expected: "a file role of \(name)", found: "\(error)")
                }
                return nil
            }
            if options.checkFiles, !resolved.missing.isEmpty {
                fail(p + "dataset", nv.location,
                     expected: "dataset \(name) in the mirror \(library.mirror.root.path) (chosen by \(library.mirror.origin))",
                     found: "\(resolved.missing.map(\.path).joined(separator: ", ")) missing: run `reptune datasets fetch \(name)`")
            } else {
                checkExists(resolved.url, p + "dataset", nv, what: "dataset file or directory", directoryAllowed: true)
            }
            return (resolved.entry.path, resolved.url.standardizedFileURL, name)
        case (nil, nil):
            fail(p, v.location, expected: "exactly one of \"dataset\" (a name in datasets/) and \"path\"", found: "neither")
            return nil
        case (_?, _?):
            fail(p, v.location, expected: "exactly one of \"dataset\" and \"path\"", found: "both")
            return nil
        }
    }

    mutating func decodeSplits(_ value: JSONValue, _ path: JSONPath) -> [DatasetSplit] {
        guard let entries = value.objectValue else { wrongType(path, value, expected: "object of split name → split"); return [] }
        var out: [DatasetSplit] = []
        for entry in entries {
            let p = path + entry.key
            guard Self.isIdentifier(entry.key) else {
                fail(p, entry.keyLocation, expected: "split name made of letters, digits, _, - and .", found: "\"\(entry.key)\"")
                continue
            }
            guard let ms = members(entry.value, p, known: ManifestFields.split.map(\.name), what: "a split") else { continue }
            guard ms.count == 1, let m = ms.first else {
                fail(p, entry.value.location, expected: "exactly one of \"rows\", \"indices\", \"file\"",
                     found: ms.isEmpty ? "an empty object" : "keys \(ms.map(\.key).joined(separator: ", "))")
                continue
            }
            switch m.key {
            case "rows":
                let items = m.value.arrayValue ?? []
                guard items.count == 2, let lo = items[0].intValue, let hi = items[1].intValue, lo >= 0, hi >= lo else {
                    wrongType(p + "rows", m.value, expected: "[lo, hi] with integers 0 ≤ lo ≤ hi")
                    continue
                }
                out.append(DatasetSplit(name: entry.key, selection: .rows(lo..<hi)))
            case "indices":
                guard let items = m.value.arrayValue, !items.isEmpty else {
                    wrongType(p + "indices", m.value, expected: "non-empty array of integers ≥ 0")
                    continue
                }
                var idx: [Int] = []
                for (i, item) in items.enumerated() {
                    if let n = item.intValue, n >= 0 { idx.append(n) } else { wrongType(p + "indices" + i, item, expected: "integer ≥ 0") }
                }
                out.append(DatasetSplit(name: entry.key, selection: .indices(idx)))
            case "file":
                guard let s = m.value.stringValue, !s.isEmpty else { wrongType(p + "file", m.value, expected: "non-empty string"); continue }
                let url = resolve(s)
                checkExists(url, p + "file", m.value, what: "split index file")
                out.append(DatasetSplit(name: entry.key, selection: .file(path: s, url: url)))
            default:
                continue
            }
        }
        return out
    }

    // MARK: defaults

    mutating func decodeDefaults(_ value: JSONValue) -> [String: JSONValue] {
        let names = StageCatalog.allParamNames
        guard let ms = value.objectValue else { wrongType("defaults", value, expected: "object of parameter name → value"); return [:] }
        var out: [String: JSONValue] = [:]
        for m in ms {
            if names.contains(m.key) {
                out[m.key] = m.value
            } else {
                fail(JSONPath("defaults") + m.key, m.keyLocation, expected: "a parameter name of some stage kind",
                     found: "unknown key \"\(m.key)\"", suggestion: NearMiss.suggestion(for: m.key, in: names))
            }
        }
        return out
    }

    // MARK: stages

    mutating func decodeStages(_ value: JSONValue, datasets: [DatasetRef], defaults: [String: JSONValue]) -> [StageSpec] {
        let path: JSONPath = "stages"
        guard let items = value.arrayValue else { wrongType(path, value, expected: "array of stages"); return [] }
        if items.isEmpty { fail(path, value.location, expected: "at least one stage", found: "empty array") }

        // First pass: ids and kinds, so references can be checked whatever the order.
        var ids: [String?] = []
        var kinds: [String: StageKind] = [:]
        var firstIndex: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            var id: String?
            if let v = item["id"], let s = identifier(v, path + i + "id", what: "stage id string") {
                if let previous = firstIndex[s] {
                    fail(path + i + "id", v.location, expected: "a stage id not used before",
                         found: "\"\(s)\", already the id of stages[\(previous)]")
                } else {
                    firstIndex[s] = i
                    id = s
                    if let k = item["kind"]?.stringValue.flatMap(StageKind.init(rawValue:)) { kinds[s] = k }
                }
            }
            ids.append(id)
        }

        var stages: [StageSpec] = []
        var edges: [(from: Int, slotPath: JSONPath, location: SourceLocation?, to: String)] = []
        let knownIds = Set(firstIndex.keys)
        for (i, item) in items.enumerated() {
            let p = path + i
            guard let ms = members(item, p, known: ManifestFields.stage.map(\.name), what: "a stage") else { continue }
            requireKeys(ms, ManifestFields.stage, p, item.location)
            var kind: StageKind?
            if let k = item["kind"] {
                if let s = k.stringValue, let parsed = StageKind(rawValue: s) {
                    kind = parsed
                } else {
                    let all = StageKind.allCases.map(\.rawValue)
                    fail(p + "kind", k.location, expected: "a stage kind: \(all.joined(separator: ", "))",
                         found: k.stringValue.map { "unknown kind \"\($0)\"" } ?? k.summary,
                         suggestion: k.stringValue.flatMap { NearMiss.suggestion(for: $0, in: all) })
                }
            }
            var summary: String?
            if let d = item["description"] {
                if let s = d.stringValue { summary = s } else { wrongType(p + "description", d, expected: "string") }
            }
            guard let kind else { continue }
            let spec = kind.spec
            let (params, sources) = decodeParams(item["params"], spec: spec, path: p + "params", stageLocation: item.location,
                                                 datasets: datasets, defaults: defaults)
            let inputs = decodeInputs(item["inputs"], spec: spec, path: p + "inputs", stageLocation: item.location,
                                      knownIds: knownIds, kinds: kinds, edges: &edges, from: i)
            let written = Set(item["params"]?.objectValue?.map(\.key) ?? []).union(defaults.keys)
            checkRules(spec, params: params, written: written, inputs: inputs, path: p, location: item.location)
            let cells = expandCells(spec, params: params, path: p + "params", location: item["params"]?.location ?? item.location)
            if let id = ids[i] {
                stages.append(StageSpec(index: i, id: id, kind: kind, summary: summary, params: params,
                                        inputs: inputs, cells: cells, sources: sources))
            }
        }
        detectCycles(ids: ids, edges: edges)
        return stages
    }

    mutating func decodeParams(_ value: JSONValue?, spec: StageKindSpec, path: JSONPath, stageLocation: SourceLocation?,
                               datasets: [DatasetRef], defaults: [String: JSONValue]) -> (StageParams, [String: ParamSource]) {
        var sources: [String: ParamSource] = [:]
        var explicit: [String: JSONValue] = [:]
        if let value {
            if let ms = members(value, path, known: spec.params.map(\.name), what: "a parameter of \(spec.kind)") {
                for m in ms where spec.param(m.key) != nil { explicit[m.key] = m.value }
            }
        }
        var resolved: [String: JSONValue] = [:]
        for param in spec.params {
            let written: (JSONValue, JSONPath)?
            if let v = explicit[param.name] {
                written = (v, path + param.name)
            } else if let v = defaults[param.name] {
                written = (v, JSONPath("defaults") + param.name)
            } else if let d = param.presence.defaultValue {
                written = (d, path + param.name)
            } else {
                written = nil
                if case .required = param.presence {
                    fail(path + param.name, value?.location ?? stageLocation, expected: "\(param.type.expected) (required by \(spec.kind))",
                         found: "nothing")
                }
            }
            if let written, let n = check(written.0, param, written.1, datasets: datasets) {
                resolved[param.name] = n
                sources[param.name] = ParamSource(path: written.1, written: written.0)
            }
        }
        return (StageParams(resolved), sources)
    }

    mutating func decodeInputs(_ value: JSONValue?, spec: StageKindSpec, path: JSONPath, stageLocation: SourceLocation?,
                               knownIds: Set<String>, kinds: [String: StageKind],
                               edges: inout [(from: Int, slotPath: JSONPath, location: SourceLocation?, to: String)],
                               from stageIndex: Int) -> [StageInput] {
        var given: [String: [String]] = [:]
        if let value, let ms = members(value, path, known: spec.inputs.map(\.name), what: "an input slot of \(spec.kind)") {
            if spec.inputs.isEmpty, !ms.isEmpty { /* unknown keys already reported */ }
            for m in ms {
                guard let slot = spec.input(m.key) else { continue }
                let sp = path + m.key
                var refs: [(String, JSONPath, JSONValue)] = []
                if let s = m.value.stringValue {
                    refs = [(s, sp, m.value)]
                } else if slot.many, let items = m.value.arrayValue, !items.isEmpty {
                    for (j, item) in items.enumerated() {
                        if let s = item.stringValue { refs.append((s, sp + j, item)) } else { wrongType(sp + j, item, expected: "stage id string") }
                    }
                } else {
                    wrongType(sp, m.value, expected: slot.many ? "stage id string or non-empty array of stage ids" : "stage id string")
                    continue
                }
                var ids: [String] = []
                for (ref, rp, rv) in refs {
                    guard knownIds.contains(ref) else {
                        fail(rp, rv.location, expected: "the id of a stage in this manifest", found: "no stage \"\(ref)\"",
                             suggestion: NearMiss.suggestion(for: ref, in: knownIds.sorted()))
                        continue
                    }
                    if !slot.accepts.isEmpty, let k = kinds[ref], !slot.accepts.contains(k) {
                        fail(rp, rv.location, expected: "a stage of kind \(slot.accepts.map(\.rawValue).joined(separator: " or "))",
                             found: "\"\(ref)\" of kind \(k)")
                        continue
                    }
                    ids.append(ref)
                    edges.append((from: stageIndex, slotPath: rp, location: rv.location, to: ref))
                }
                given[slot.name] = ids
            }
        } else if let value, value.objectValue == nil {
            // members() reported the type error.
        }
        for slot in spec.inputs where slot.required && given[slot.name] == nil {
            fail(path + slot.name, value?.location ?? stageLocation,
                 expected: "a stage id (input required by \(spec.kind); accepts \(slot.accepts.isEmpty ? "any kind" : slot.accepts.map(\.rawValue).joined(separator: " or ")))",
                 found: "nothing")
        }
        return spec.inputs.compactMap { slot in given[slot.name].map { StageInput(slot: slot.name, stages: $0) } }
    }

    /// `written`: parameters given in the stage or `defaults` (one that is written but invalid was reported where
    /// it stands, so it is not reported again as missing).
    mutating func checkRules(_ spec: StageKindSpec, params: StageParams, written: Set<String>, inputs: [StageInput], path: JSONPath,
                             location: SourceLocation?) {
        for rule in spec.rules {
            let when: String
            if rule.whenAbsent {
                guard !params.has(rule.param) else { continue }
                when = "\(rule.param) is absent"
            } else {
                guard let v = params[rule.param]?.stringValue, rule.values.contains(v) else { continue }
                when = "\(rule.param) is \"\(v)\""
            }
            for name in rule.requiresParams where !params.has(name) && !written.contains(name) {
                fail(path + "params" + name, location,
                     expected: "\(spec.param(name)?.type.expected ?? "a value") (required when \(when))",
                     found: "nothing")
            }
            for name in rule.requiresInputs where !inputs.contains(where: { $0.slot == name }) {
                let accepts = spec.input(name)?.accepts.map(\.rawValue).joined(separator: " or ") ?? "a stage"
                fail(path + "inputs" + name, location,
                     expected: "the id of a \(accepts) stage (required when \(when))", found: "nothing")
            }
        }
    }

    // MARK: values

    /// Checks one parameter value against its spec and returns it normalised (grids and integer lists as arrays,
    /// positions as an array of offsets), or nil after reporting errors.
    mutating func check(_ value: JSONValue, _ param: ParamSpec, _ path: JSONPath, datasets: [DatasetRef]) -> JSONValue? {
        if param.axis != nil {
            let items: [(JSONValue, JSONPath)]
            if value.objectValue != nil {
                guard let expanded = expandRange(value, path, integer: param.type.isInteger) else { return nil }
                items = expanded.map { ($0, path + "range") }
            } else if let array = value.arrayValue {
                if array.isEmpty { fail(path, value.location, expected: "a non-empty grid", found: "empty array"); return nil }
                items = array.enumerated().map { ($1, path + $0) }
            } else {
                items = [(value, path)]
            }
            var out: [JSONValue] = []
            var ok = true
            for (item, p) in items {
                if let n = checkScalar(item, param.type, p, datasets: datasets, grid: true) { out.append(n) } else { ok = false }
                if !ok && p == path + "range" { break }
            }
            return ok ? .array(out) : nil
        }
        return checkScalar(value, param.type, path, datasets: datasets, grid: false)
    }

    mutating func checkScalar(_ value: JSONValue, _ type: ParamType, _ path: JSONPath, datasets: [DatasetRef],
                              grid: Bool) -> JSONValue? {
        let expected = grid ? "\(type.expected), an array of those or {\"range\": [lo, hi, step]}" : type.expected
        switch type {
        case .integer(let lo, let hi):
            guard let n = value.intValue else { wrongType(path, value, expected: expected); return nil }
            if let lo, n < lo { wrongType(path, value, expected: type.expected); return nil }
            if let hi, n > hi { wrongType(path, value, expected: type.expected); return nil }
            return .int(n)
        case .number(let lo, let hi):
            guard let n = value.numberValue, n.doubleValue.isFinite else { wrongType(path, value, expected: expected); return nil }
            if let lo, n.doubleValue < lo { wrongType(path, value, expected: type.expected); return nil }
            if let hi, n.doubleValue > hi { wrongType(path, value, expected: type.expected); return nil }
            return .number(n)
        case .string:
            guard value.stringValue != nil else { wrongType(path, value, expected: expected); return nil }
            return value
        case .boolean:
            guard value.boolValue != nil else { wrongType(path, value, expected: expected); return nil }
            return value
        case .choice(let values):
            guard let s = value.stringValue, values.contains(s) else {
                fail(path, value.location, expected: expected, found: value.summary,
                     suggestion: value.stringValue.flatMap { NearMiss.suggestion(for: $0, in: values) })
                return nil
            }
            return value
        case .list(let element):
            let items: [(JSONValue, JSONPath)]
            if element.isInteger, value.objectValue != nil {
                guard let expanded = expandRange(value, path, integer: true) else { return nil }
                items = expanded.map { ($0, path + "range") }
            } else if let array = value.arrayValue, !array.isEmpty {
                items = array.enumerated().map { ($1, path + $0) }
            } else {
                wrongType(path, value, expected: type.expected)
                return nil
            }
            var out: [JSONValue] = []
            var ok = true
            for (item, p) in items {
                if let n = checkScalar(item, element, p, datasets: datasets, grid: false) { out.append(n) } else { ok = false }
            }
            return ok ? .array(out) : nil
        case .positions:
            func offset(_ v: JSONValue, _ p: JSONPath) -> Int? {
                if v.stringValue == "last" { return 0 }
                if let n = v.intValue, n <= 0, n >= -ManifestFields.maxTokens { return n }
                return nil
            }
            if let array = value.arrayValue {
                guard !array.isEmpty else { wrongType(path, value, expected: type.expected); return nil }
                var out: [JSONValue] = []
                for (i, item) in array.enumerated() {
                    if let n = offset(item, path + i) { out.append(.int(n)) } else {
                        wrongType(path + i, item, expected: "\"last\" or an offset from the last token (integer in -\(ManifestFields.maxTokens)...0)")
                    }
                }
                return out.count == array.count ? .array(out) : nil
            }
            guard let n = offset(value, path) else { wrongType(path, value, expected: type.expected); return nil }
            return .array([.int(n)])
        case .dataset:
            guard let s = value.stringValue else { wrongType(path, value, expected: expected); return nil }
            let use = DatasetUse(parsing: s)
            let names = datasets.map(\.name)
            guard let ds = datasets.first(where: { $0.name == use.dataset }) else {
                fail(path, value.location,
                     expected: names.isEmpty ? "a dataset declared in \"datasets\" (none are)" : "one of the declared datasets: \(names.joined(separator: ", "))",
                     found: "unknown dataset \"\(use.dataset)\"", suggestion: NearMiss.suggestion(for: use.dataset, in: names))
                return nil
            }
            if let split = use.split, ds.split(split) == nil {
                let splits = ds.splits.map(\.name)
                fail(path, value.location,
                     expected: splits.isEmpty ? "dataset \"\(ds.name)\" without a split (it declares none)" : "a split of \"\(ds.name)\": \(splits.joined(separator: ", "))",
                     found: "unknown split \"\(split)\"", suggestion: NearMiss.suggestion(for: split, in: splits))
                return nil
            }
            return value
        case .record(let name, let fields):
            guard let ms = members(value, path, known: fields.map(\.name), what: "a \(name) object") else { return nil }
            var out: [JSONMember] = []
            var ok = true
            for field in fields {
                let given = ms.first { $0.key == field.name }?.value
                guard let v = given ?? field.presence.defaultValue else {
                    if case .required = field.presence {
                        fail(path + field.name, value.location, expected: "\(field.type.expected) (required in a \(name) object)", found: "nothing")
                        ok = false
                    }
                    continue
                }
                if let n = check(v, field, path + field.name, datasets: datasets) { out.append(JSONMember(key: field.name, value: n)) } else { ok = false }
            }
            return ok && ms.allSatisfy({ m in fields.contains { $0.name == m.key } }) ? .object(out) : nil
        }
    }

    /// Expands `{"range": [lo, hi, step]}` (inclusive of `hi` when the steps land on it) exactly.
    mutating func expandRange(_ value: JSONValue, _ path: JSONPath, integer: Bool) -> [JSONValue]? {
        guard let ms = members(value, path, known: [ManifestFields.rangeKey], what: "a range") else { return nil }
        guard let r = value[ManifestFields.rangeKey] else {
            if ms.isEmpty { fail(path, value.location, expected: "{\"range\": [lo, hi, step]}", found: "empty object") }
            return nil
        }
        let rp = path + ManifestFields.rangeKey
        guard let items = r.arrayValue, items.count == 3 || (integer && items.count == 2) else {
            wrongType(rp, r, expected: integer ? "[lo, hi, step] or [lo, hi] (step 1)" : "[lo, hi, step]")
            return nil
        }
        var numbers: [ExactDecimal] = []
        for (i, item) in items.enumerated() {
            guard let n = item.numberValue else { wrongType(rp + i, item, expected: integer ? "integer" : "number"); return nil }
            guard let exact = n.exact else {
                wrongType(rp + i, item, expected: "a number with at most 18 significant digits")
                return nil
            }
            if integer && !exact.isInteger { wrongType(rp + i, item, expected: "integer"); return nil }
            numbers.append(exact)
        }
        if numbers.count == 2 { numbers.append(ExactDecimal(1)) }
        let (lo, hi, step) = (numbers[0], numbers[1], numbers[2])
        if step.isZero { fail(rp + 2, items.count > 2 ? items[2].location : r.location, expected: "a non-zero step", found: "0"); return nil }
        guard let values = ExactDecimal.progression(from: lo, to: hi, step: step, limit: ManifestFields.maxRangeValues) else {
            fail(rp, r.location, expected: "a range whose values fit in 18 digits", found: "[\(lo), \(hi), \(step)]")
            return nil
        }
        if values.isEmpty {
            fail(rp + 2, items.count > 2 ? items[2].location : r.location,
                 expected: "a step going from \(lo) towards \(hi) (\(lo < hi ? "positive" : "negative"))", found: "\(step)")
            return nil
        }
        if values.count > ManifestFields.maxRangeValues {
            fail(rp, r.location, expected: "at most \(ManifestFields.maxRangeValues) values", found: "a range of more")
            return nil
        }
        return values.map { v in
            if integer, let i = v.intValue { return .int(i) }
            return .number(JSONNumber(v))
        }
    }

    // MARK: cells and cycles

    mutating func expandCells(_ spec: StageKindSpec, params: StageParams, path: JSONPath, location: SourceLocation?) -> [SweepCell] {
        var axes: [(String, [JSONValue])] = []
        for p in spec.axes {
            guard let axis = p.axis, let values = params[p.name]?.arrayValue else { continue }
            axes.append((axis, values))
        }
        var total = 1
        for (_, values) in axes {
            let (m, overflow) = total.multipliedReportingOverflow(by: values.count)
            total = overflow ? Int.max : m
        }
        guard total <= ManifestFields.maxCells else {
            fail(path, location, expected: "at most \(ManifestFields.maxCells) sweep cells", found: "a grid of more")
            return []
        }
        var rows: [[JSONMember]] = [[]]
        for (axis, values) in axes {
            rows = rows.flatMap { row in values.map { row + [JSONMember(key: axis, value: $0)] } }
        }
        if case .perAxisValue(let flag, let axisName, let marker) = spec.extraCells,
           params[flag]?.boolValue == true,
           let values = axes.first(where: { $0.0 == axisName })?.1 {
            rows += values.map { [JSONMember(key: axisName, value: $0), JSONMember(key: marker, value: .bool(true))] }
        }
        if case .single(let flag, let marker) = spec.extraCells, params[flag]?.boolValue == true {
            rows.append([JSONMember(key: marker, value: .bool(true))])
        }
        return rows.enumerated().map { SweepCell(index: $0.offset, coordinates: $0.element) }
    }

    mutating func detectCycles(ids: [String?], edges: [(from: Int, slotPath: JSONPath, location: SourceLocation?, to: String)]) {
        var indexOf: [String: Int] = [:]
        for (i, id) in ids.enumerated() { if let id { indexOf[id] = i } }
        var adjacency: [Int: [(Int, JSONPath, SourceLocation?)]] = [:]
        for e in edges { if let t = indexOf[e.to] { adjacency[e.from, default: []].append((t, e.slotPath, e.location)) } }
        // Iterative DFS: 0 = unvisited, 1 = on stack, 2 = done.
        var state = [Int](repeating: 0, count: ids.count)
        for start in ids.indices where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                let outs = adjacency[top.node] ?? []
                if top.next >= outs.count {
                    state[top.node] = 2
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let (target, slotPath, location) = outs[top.next]
                if state[target] == 1 {
                    let cycleStart = stack.firstIndex { $0.node == target } ?? 0
                    let names = stack[cycleStart...].map { ids[$0.node] ?? "?" } + [ids[target] ?? "?"]
                    fail(slotPath, location, expected: "inputs that do not lead back to the stage",
                         found: "a cycle: \(names.joined(separator: " → "))")
                } else if state[target] == 0 {
                    state[target] = 1
                    stack.append((target, 0))
                }
            }
        }
    }
}

extension ParamType {
    var isInteger: Bool { if case .integer = self { return true } else { return false } }
}
