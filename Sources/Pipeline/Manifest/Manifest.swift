import Engine
import Foundation

/// A validated experiment: the model, the datasets, and the stages to run, with every parameter resolved
/// (stage value, else manifest `defaults`, else the catalog default) and every grid expanded into sweep cells.
/// Build one with `Manifest.load(from:)` or `Manifest.decode(_:)`.
public struct Manifest: Sendable {
    public var name: String
    public var summary: String?
    public var model: ModelRef
    public var datasets: [DatasetRef]
    /// The manifest's `defaults` object, as written.
    public var defaults: [String: JSONValue]
    /// Stages in the order written.
    public var stages: [StageSpec]
    /// The manifest file, if it was read from one.
    public var file: URL?
    /// Directory relative paths in the manifest are resolved against.
    public var baseDirectory: URL
    /// The source text (stored with each run so `reptune resume` can re-plan it).
    public var text: String
    /// `executor.slurm`: how `--executor slurm` submits the units (nil when the manifest says nothing).
    public var slurm: SlurmOptions?

    public func stage(_ id: String) -> StageSpec? { stages.first { $0.id == id } }
    public func dataset(_ name: String) -> DatasetRef? { datasets.first { $0.name == name } }
}

/// The model a manifest runs on: a named default (`"smollm2-135m-instruct"`) or a file path, with an optional
/// chat-template override.
public struct ModelRef: Sendable, Hashable {
    /// The catalog name when the manifest used one.
    public var name: String?
    /// The path as written (or the catalog's path for a named model).
    public var path: String
    /// The resolved file.
    public var url: URL
    /// Chat template to use instead of the one the model file carries (e.g. `"llama2-paper"`, `"chatml"`).
    public var template: String?
    /// The manifest's folder: relative paths of other models a stage names are resolved against it.
    public var baseDirectory: URL
    /// How the engine holds the weights (`"weights"`; `auto` when absent).
    public var weights: WeightsPolicy

    public init(name: String?, path: String, url: URL, template: String?, baseDirectory: URL, weights: WeightsPolicy = .auto) {
        self.name = name
        self.path = path
        self.url = url
        self.template = template
        self.baseDirectory = baseDirectory
        self.weights = weights
    }

    /// The file a stage's `model` parameter names (a local judge model), or nil when that is this model (by name,
    /// path as written, or file): a catalog name is looked up as a sibling in the same `models/` folder (searched
    /// upwards); anything else is a path, relative to the manifest's folder like every path in a manifest.
    public func otherModel(_ other: String) -> URL? {
        let file = resolve(other)
        return file.standardizedFileURL.path == url.standardizedFileURL.path ? nil : file
    }

    private func resolve(_ other: String) -> URL {
        if other == name || other == path { return url }
        if let relative = ModelCatalog.named[other] {
            var dir = url.deletingLastPathComponent()
            for _ in 0..<6 {
                let candidate = dir.deletingLastPathComponent().appendingPathComponent(relative)
                if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
                dir.deleteLastPathComponent()
            }
            return URL(fileURLWithPath: relative)
        }
        return ManifestDecoder.resolve(other, against: baseDirectory)
    }
}

/// Named models a manifest may use instead of a path; looked up under `models/` next to the manifest or in one
/// of its parent directories, or in the working directory. The same names and files as `scripts/models.json`,
/// which `make model MODEL=name` fetches (a test keeps the two in step).
public enum ModelCatalog {
    public static let defaultName = "smollm2-135m-instruct"
    public static let named: [String: String] = [
        "smollm2-135m-instruct": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
        "qwen2.5-coder-0.5b-instruct": "models/Qwen2.5-Coder-0.5B-Instruct.gguf",
        "qwen2.5-coder-1.5b-instruct": "models/Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
    ]
}

/// A dataset declared in the manifest: a dataset of the catalog by name or a file or directory by path, and its
/// named splits.
public struct DatasetRef: Sendable, Hashable {
    public var name: String
    /// The path as written, or the path in the mirror of a named dataset.
    public var path: String
    /// The resolved file or directory.
    public var url: URL
    /// Format hint for loaders (`csv`, `txt`, `jsonl`, `dir`); nil = decided by the loader from the name.
    public var format: String?
    public var splits: [DatasetSplit]
    /// The descriptor's name (`datasets/<name>.json`) when the manifest named a dataset.
    public var catalogName: String?

    public init(name: String, path: String, url: URL, format: String?, splits: [DatasetSplit], catalogName: String? = nil) {
        self.name = name
        self.path = path
        self.url = url
        self.format = format
        self.splits = splits
        self.catalogName = catalogName
    }

    public func split(_ name: String) -> DatasetSplit? { splits.first { $0.name == name } }
}

/// A named subset of a dataset's rows, stored as data so that it never depends on a random-number port.
public struct DatasetSplit: Sendable, Hashable {
    /// Which rows (0-based, in file order after the loader's own filtering) belong to the split.
    public enum Selection: Sendable, Hashable {
        /// Rows `lo..<hi`.
        case rows(Range<Int>)
        /// Explicit row indices, in order.
        case indices([Int])
        /// A file of row indices (one integer per line or a JSON array), resolved against the manifest.
        case file(path: String, url: URL)
    }

    public var name: String
    public var selection: Selection
}

/// A dataset as a stage parameter names it: `"facts"` or `"facts:train"`.
public struct DatasetUse: Sendable, Hashable, CustomStringConvertible {
    public var dataset: String
    public var split: String?

    public init(dataset: String, split: String?) {
        self.dataset = dataset
        self.split = split
    }

    public init(parsing text: String) {
        if let colon = text.firstIndex(of: ":") {
            dataset = String(text[..<colon])
            split = String(text[text.index(after: colon)...])
        } else {
            dataset = text
            split = nil
        }
    }

    public var description: String { split.map { "\(dataset):\($0)" } ?? dataset }
}

/// One stage of a manifest after validation.
public struct StageSpec: Sendable {
    /// Position in the manifest's `stages` array.
    public var index: Int
    public var id: String
    public var kind: StageKind
    public var summary: String?
    /// Every parameter of the kind that has a value, resolved and normalised (grids as arrays).
    public var params: StageParams
    /// Input slot → the stage ids feeding it (one id unless the slot takes many), in slot-table order.
    public var inputs: [StageInput]
    /// The sweep cells, in a fixed order (first grid axis outermost); a stage without grids has one empty cell.
    public var cells: [SweepCell]
    /// Where each parameter's value was written (stage `params`, `defaults`, or the catalog's default), for errors
    /// found after decoding.
    public var sources: [String: ParamSource] = [:]

    /// Every stage id this stage reads from, in slot order, without repeats.
    public var dependencies: [String] {
        var seen: Set<String> = []
        return inputs.flatMap(\.stages).filter { seen.insert($0).inserted }
    }

    /// The datasets named by this stage's dataset parameters (each value of a dataset grid).
    public var datasetUses: [DatasetUse] {
        kind.spec.params.flatMap { p -> [DatasetUse] in
            guard case .dataset = p.type, let value = params[p.name] else { return [] }
            let names = value.arrayValue?.compactMap(\.stringValue) ?? value.stringValue.map { [$0] } ?? []
            return names.map(DatasetUse.init(parsing:))
        }
    }
}

/// Where a parameter's value came from: its JSON path and the value as written (with source locations).
public struct ParamSource: Sendable {
    public var path: JSONPath
    public var written: JSONValue

    public init(path: JSONPath, written: JSONValue) {
        self.path = path
        self.written = written
    }

    /// The path and location of the element equal to `value` (a grid or list element), else of the whole value.
    public func locate(_ value: JSONValue) -> (path: JSONPath, location: SourceLocation?) {
        if let items = written.arrayValue, let i = items.firstIndex(where: { CanonicalJSON.encode($0) == CanonicalJSON.encode(value) }) {
            return (path + i, items[i].location)
        }
        if written.objectValue != nil { return (path + ManifestFields.rangeKey, written.location) }
        return (path, written.location)
    }
}

/// One filled input slot of a stage: the slot name and the stage ids feeding it.
public struct StageInput: Sendable, Hashable {
    public var slot: String
    public var stages: [String]

    public init(slot: String, stages: [String]) {
        self.slot = slot
        self.stages = stages
    }
}

/// Resolved parameters of a stage, with typed accessors for stage runners. Values were validated against the
/// catalog, so a mismatch here is a programming error and throws `ParamAccessError`.
public struct StageParams: Sendable, Hashable {
    public var values: [String: JSONValue]

    public init(_ values: [String: JSONValue] = [:]) { self.values = values }

    public subscript(name: String) -> JSONValue? { values[name] }

    /// The canonical JSON object of all values (what the cache key hashes).
    public var json: JSONValue {
        .object(values.keys.sorted().map { JSONMember(key: $0, value: values[$0]!) })
    }

    public func has(_ name: String) -> Bool { values[name] != nil }

    public func int(_ name: String) throws(ParamAccessError) -> Int {
        guard let v = values[name]?.intValue else { throw ParamAccessError(name: name, expected: "integer", value: values[name]) }
        return v
    }

    public func double(_ name: String) throws(ParamAccessError) -> Double {
        guard let v = values[name]?.doubleValue else { throw ParamAccessError(name: name, expected: "number", value: values[name]) }
        return v
    }

    public func string(_ name: String) throws(ParamAccessError) -> String {
        guard let v = values[name]?.stringValue else { throw ParamAccessError(name: name, expected: "string", value: values[name]) }
        return v
    }

    public func bool(_ name: String) throws(ParamAccessError) -> Bool {
        guard let v = values[name]?.boolValue else { throw ParamAccessError(name: name, expected: "boolean", value: values[name]) }
        return v
    }

    public func ints(_ name: String) throws(ParamAccessError) -> [Int] {
        guard let items = values[name]?.arrayValue else {
            throw ParamAccessError(name: name, expected: "array of integers", value: values[name])
        }
        var out: [Int] = []
        for item in items {
            guard let i = item.intValue else { throw ParamAccessError(name: name, expected: "array of integers", value: values[name]) }
            out.append(i)
        }
        return out
    }

    public func strings(_ name: String) throws(ParamAccessError) -> [String] {
        guard let items = values[name]?.arrayValue else {
            throw ParamAccessError(name: name, expected: "array of strings", value: values[name])
        }
        var out: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw ParamAccessError(name: name, expected: "array of strings", value: values[name]) }
            out.append(s)
        }
        return out
    }
}

/// A stage runner asked for a parameter in a type the catalog does not give it.
public struct ParamAccessError: Error, Sendable, CustomStringConvertible {
    public var name: String
    public var expected: String
    public var value: JSONValue?

    public var description: String {
        "parameter \"\(name)\": expected \(expected), found \(value?.summary ?? "no value")"
    }
}

/// One cell of a stage's sweep: its position in the stage's cell list and its coordinates on the grid axes
/// (`{"layer": 12, "multiplier": -5}`); the empty object for stages without grids.
public struct SweepCell: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    /// Axis name → value, in axis order.
    public var coordinates: [JSONMember]

    public init(index: Int, coordinates: [JSONMember]) {
        self.index = index
        self.coordinates = coordinates
    }

    public subscript(axis: String) -> JSONValue? { coordinates.first { $0.key == axis }?.value }

    /// Canonical JSON of the coordinates (how the store records them).
    public var coordinatesJSON: String { CanonicalJSON.encode(.object(coordinates)) }

    public var description: String { "#\(index) \(coordinatesJSON)" }

    public static func == (a: SweepCell, b: SweepCell) -> Bool {
        a.index == b.index && a.coordinatesJSON == b.coordinatesJSON
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(index)
        hasher.combine(coordinatesJSON)
    }
}
