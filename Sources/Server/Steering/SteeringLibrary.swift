import Engine
import Foundation
import ModelFormats
import Pipeline

/// What a results directory offers the server: the `vectors` stages' directions (with their per-layer norm and
/// AUROC) and the `tune` stages' variants, each under its stage id (the latest run's, when a stage id was run
/// more than once). Read once at start-up, read-only.
public struct SteeringLibrary: Sendable {
    /// A stored set of per-layer directions.
    public struct VectorSet: Sendable {
        public var name: String
        public var directions: [Int: [Float]]
        /// Per layer: the direction's norm before normalisation and the honest/dishonest AUROC (when collected).
        public var diagnostics: [(layer: Int, norm: Double?, auroc: Double?)]
        /// The control-vector file, relative to the results directory.
        public var file: String
    }

    /// A stored tuned variant: its name (`<tune stage id>`, or `<id>:<cell>` for later cells) and variant file.
    public struct Variant: Sendable {
        public var name: String
        public var file: URL
        public init(name: String, file: URL) {
            self.name = name
            self.file = file
        }
    }

    public var vectors: [VectorSet] = []
    public var variants: [Variant] = []
    /// Stages whose files are not in the directory (a packed store leaves large artifacts out), as notes.
    public var unavailable: [String] = []
    public var results: URL?

    public init() {}

    /// Reads the vectors and tuned variants stored under `results`.
    public init(results: URL) throws {
        self.results = results.standardizedFileURL
        let store = try Store(readOnlyDirectory: results)
        var seen = Set<String>()
        for run in try store.runs().reversed() {
            for (stageID, key) in try store.runStages(run.id) where !seen.contains(stageID) {
                guard let record = try store.stage(key), record.kind == "vectors" || record.kind == "tune" else { continue }
                let cells = try store.cells(key).filter { $0.status == .done }
                guard !cells.isEmpty else { continue }
                seen.insert(stageID)
                let refs = cells.compactMap { $0.artifacts[record.kind == "vectors" ? StageArtifact.vectors : StageArtifact.variant] }
                if let missing = refs.first(where: { !FileManager.default.fileExists(atPath: store.artifactURL($0).path) }) {
                    unavailable.append("\(stageID) (\(record.kind)): \(missing.path) is not in \(results.path) (a packed store leaves files over its size limit out; `reptune run` recomputes them)")
                    continue
                }
                if record.kind == "vectors", let ref = cells[0].artifacts[StageArtifact.vectors] {
                    let file = try ControlVectorFile(contentsOf: store.artifactURL(ref))
                    var diagnostics: [(Int, Double?, Double?)] = []
                    let rows = cells[0].outputs["layers"]?.arrayValue ?? []
                    for layer in file.directions.keys.sorted() {
                        let row = rows.first { $0["layer"]?.intValue == layer }
                        diagnostics.append((layer, row?["norm"]?.doubleValue, row?["auroc"]?.doubleValue))
                    }
                    vectors.append(VectorSet(name: stageID, directions: file.directions, diagnostics: diagnostics, file: ref.path))
                } else if record.kind == "tune" {
                    for cell in cells.sorted(by: { $0.index < $1.index }) {
                        guard let ref = cell.artifacts[StageArtifact.variant] else { continue }
                        variants.append(Variant(name: cell.index == 0 ? stageID : "\(stageID):\(cell.index)", file: store.artifactURL(ref)))
                    }
                }
            }
        }
        vectors.sort { $0.name < $1.name }
        variants.sort { $0.name < $1.name }
    }

    /// The directions named `name`: a vectors stage id, else a control-vector file (GGUF or JSON) given by its
    /// path relative to the results directory.
    public func directions(named name: String, param: String) throws(APIError) -> (directions: [Int: [Float]], label: String) {
        if let set = vectors.first(where: { $0.name == name }) { return (set.directions, name) }
        let known = vectors.map(\.name)
        guard let results else {
            throw APIError(404, "\(param): no stored vector \"\(name)\" (the server was started without --results)", param: param,
                           code: "vector_not_found")
        }
        let url = results.appendingPathComponent(name).standardizedFileURL
        guard !name.hasPrefix("/"), url.path.hasPrefix(results.path + "/"), FileManager.default.fileExists(atPath: url.path) else {
            throw APIError(404, "\(param): no vectors stage or file \"\(name)\" in \(results.path) (stored vectors: \(known.isEmpty ? "none" : known.joined(separator: ", ")))",
                           param: param, code: "vector_not_found")
        }
        do {
            return (try ControlVectorFile(contentsOf: url).directions, name)
        } catch {
            throw APIError(400, "\(param): \(error)", param: param, code: "invalid_vector")
        }
    }
}
