/// Everything that determines a stage's result, encoded as canonical JSON so equal work gets an equal key.
/// Hashing is left to the caller (`hashed(by:)`), so this module needs no hash function of its own.
public struct StageKey: Sendable, Equatable {
    public var kind: StageKind
    /// Resolved parameters (defaults filled in, grids expanded to lists).
    public var params: [String: JSONValue]
    /// Input role → key (hash) of the stage feeding it.
    public var inputKeys: [String: String]
    public var modelSHA: String
    public var template: String?
    /// Dataset alias → its reference and content hash, for the datasets this stage reads.
    public var datasets: [String: JSONValue]
    public var engineVersion: String

    public init(kind: StageKind, params: [String: JSONValue], inputKeys: [String: String], modelSHA: String,
                template: String? = nil, datasets: [String: JSONValue] = [:], engineVersion: String)
    {
        self.kind = kind
        self.params = params
        self.inputKeys = inputKeys
        self.modelSHA = modelSHA
        self.template = template
        self.datasets = datasets
        self.engineVersion = engineVersion
    }

    /// The key of stage `id` of `manifest`: its resolved parameters, the keys of its inputs (role → key),
    /// and the hashes of the model and of the datasets its parameters name. Nil when there is no such stage.
    public init?(manifest: Manifest, stageID id: String, inputKeys: [String: String], modelSHA: String,
                 datasetSHAs: [String: String], engineVersion: String)
    {
        guard let stage = manifest.stage(id), var params = manifest.resolvedParams(id) else { return nil }
        var datasets: [String: JSONValue] = [:]
        for spec in StageParameters.parameters(of: stage.kind) {
            guard let value = params[spec.name] else { continue }
            if spec.type.isGrid, case .success(let values) = Grid.expand(value, integer: spec.type == .intGrid) {
                params[spec.name] = .array(values.map(JSONValue.number))
            }
            if spec.type == .dataset, let alias = value.stringValue, let ref = manifest.datasets[alias] {
                var members = [JSONMember("name", .string(ref.name)), JSONMember("sha", .string(datasetSHAs[alias] ?? ""))]
                if let split = ref.split { members.append(JSONMember("split", .string(split))) }
                if let limit = ref.limit { members.append(JSONMember("limit", .number(Double(limit)))) }
                datasets[alias] = .object(members)
            }
        }
        self.init(kind: stage.kind, params: params, inputKeys: inputKeys, modelSHA: modelSHA,
                  template: manifest.model.template, datasets: datasets, engineVersion: engineVersion)
    }

    /// Sorted keys, no whitespace, shortest exact numbers.
    public var canonicalJSON: String {
        var model = [JSONMember("sha", .string(modelSHA))]
        if let template { model.append(JSONMember("template", .string(template))) }
        let value: JSONValue = [
            "kind": .string(kind.rawValue),
            "params": .object(params.map { JSONMember($0.key, $0.value) }),
            "inputs": .object(inputKeys.map { JSONMember($0.key, .string($0.value)) }),
            "model": .object(model),
            "datasets": .object(datasets.map { JSONMember($0.key, $0.value) }),
            "engine": .string(engineVersion),
        ]
        return JSONText.canonical(value)
    }

    /// `hash` applied to the canonical JSON.
    public func hashed(by hash: (String) -> String) -> String { hash(canonicalJSON) }
}
