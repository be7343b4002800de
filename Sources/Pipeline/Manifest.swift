/// A validated experiment manifest: the model, datasets, parameter defaults and the stages to run.
public struct Manifest: Sendable, Equatable {
    public var name: String
    public var model: ModelRef
    public var datasets: [String: DatasetRef]
    /// Parameter values applied to every stage whose kind has a parameter of that name and does not set it.
    public var defaults: [String: JSONValue]
    public var stages: [StageSpec]

    public init(name: String, model: ModelRef = ModelRef(), datasets: [String: DatasetRef] = [:],
                defaults: [String: JSONValue] = [:], stages: [StageSpec])
    {
        self.name = name
        self.model = model
        self.datasets = datasets
        self.defaults = defaults
        self.stages = stages
    }

    /// Parses and validates manifest text, reporting a syntax error or every validation error.
    public static func parse(_ text: String, file: String = "manifest.json") throws(ManifestFailure) -> Manifest {
        let value: JSONValue
        do {
            value = try JSONParser(file: file).parse(text)
        } catch {
            throw .syntax(error)
        }
        return try decode(value)
    }

    /// Validates a parsed document, reporting every error found.
    public static func decode(_ value: JSONValue) throws(ManifestFailure) -> Manifest {
        var decoder = ManifestDecoder()
        let manifest = decoder.decode(value)
        if let manifest, decoder.errors.isEmpty { return manifest }
        throw .invalid(decoder.errors.isEmpty
            ? [ManifestError(path: "manifest", expected: "a valid manifest", found: "an unreadable document")]
            : decoder.errors)
    }

    /// The stage with `id`.
    public func stage(_ id: String) -> StageSpec? { stages.first { $0.id == id } }

    /// The stage dependency graph.
    public var dag: DAG { DAG(stages: stages) }

    /// Parameters of stage `id` with table defaults, then manifest `defaults`, then the stage's own values applied.
    public func resolvedParams(_ id: String) -> [String: JSONValue]? {
        guard let stage = stage(id) else { return nil }
        var params: [String: JSONValue] = [:]
        for spec in StageParameters.parameters(of: stage.kind) {
            if let v = stage.params[spec.name] ?? defaults[spec.name] ?? spec.defaultValue { params[spec.name] = v }
        }
        return params
    }

    /// The cartesian product of the grid parameters of stage `id` (table order, first parameter outermost);
    /// one empty cell when the stage has no grids, none when there is no such stage.
    public func sweepCells(_ id: String) -> [SweepCell] {
        guard let stage = stage(id), let params = resolvedParams(id) else { return [] }
        var cells = [SweepCell([:])]
        for spec in StageParameters.parameters(of: stage.kind) where spec.type.isGrid {
            guard let value = params[spec.name],
                  case .success(let values) = Grid.expand(value, integer: spec.type == .intGrid) else { continue }
            cells = cells.flatMap { cell in
                values.map { v in
                    var c = cell.coordinates
                    c[spec.name] = .number(v)
                    return SweepCell(c)
                }
            }
        }
        return cells
    }
}
