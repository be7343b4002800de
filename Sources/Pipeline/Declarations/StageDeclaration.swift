import Foundation

/// One stage kind, declared once: its name, code version, typed parameters, inputs, declared outputs, how its long
/// cells keep their progress, the source files its results depend on, and its run function. The manifest catalog
/// and decoder, docs/MANIFEST.md, the JSON Schema, the outputs section of docs/RESULTS.md, the standard registry,
/// what `pack` carries, the Ctrl-C message and the report's metric lookups all read it.
///
/// Adding a kind: a file in `Sources/Pipeline/Stages/` with `extension StageKind { static let … }` and
/// `extension StageDeclaration { static let … }`, and one line in `StageDeclaration.all`.
public struct StageDeclaration: Sendable {
    /// Parameters, inputs, rules and sweep cells (what the manifest decoder and the docs read).
    public var spec: StageKindSpec
    /// The version of the kind's code, part of its cache key (`StageKey`): bump it when a change to the files in
    /// `sources` can change a stored result, so results of the older code are recomputed. `StageCodeTests` fails
    /// when those files change and the version does not.
    public var version: Int
    public var outputs: StageOutputs
    public var progress: ProgressPolicy
    /// The files (relative to `Sources/`) whose code decides this kind's results, beyond the engine (whose own
    /// version, `EngineVersion`, is in every key).
    public var sources: [String]
    public var runner: StageRunner
    /// Decodes the kind's typed parameters from resolved parameters (`StageDeclarationTests` runs it on every
    /// kind's defaults, so a field naming an undeclared parameter fails there).
    public let decodeParams: @Sendable (StageParams) throws -> Void

    public var kind: StageKind { spec.kind }

    public init<Params: Decodable>(_ spec: StageKindSpec, version: Int, params: Params.Type, outputs: StageOutputs,
                                   progress: ProgressPolicy = .shortCells, sources: [String], runner: StageRunner) {
        self.spec = spec
        self.version = version
        self.outputs = outputs
        self.progress = progress
        self.sources = sources
        var declared = runner
        declared.outputs = outputs
        self.runner = declared
        decodeParams = { _ = try StageParamsDecoder.decode(Params.self, from: $0, spec: spec) }
    }

    /// The declaration of `kind`.
    public static func of(_ kind: StageKind) -> StageDeclaration? { all.first { $0.kind == kind } }

    /// Kinds whose long cells save their progress, in list order.
    public static var savingProgress: [StageDeclaration] { all.filter { $0.progress.savesProgress } }

    /// What the first Ctrl-C of a run does, naming the kinds that save their progress.
    public static var interruptSummary: String {
        let kinds = savingProgress.map(\.kind.rawValue)
        let list = kinds.dropLast().joined(separator: ", ") + (kinds.count > 1 ? " and " : "") + (kinds.last ?? "")
        return "cells stop at their next unit of work, \(list) saving their progress; cells still computing after "
            + "\(Int(CancellationFlag.forceAfter)) s are left to the next run"
    }
}

/// How a kind's cells behave when a run is stopped.
public enum ProgressPolicy: Sendable {
    /// Cells are short: one in flight finishes before the run stops.
    case shortCells
    /// A cell saves its progress (`CellCheckpoint`) every `CellCheckpoint.interval` seconds and on Ctrl-C, and a
    /// re-run continues from it to the uninterrupted result to the bit. `what` names it in the docs; `packed`: the
    /// files are small enough for `reptune pack` to carry.
    case checkpointed(what: String, packed: Bool)

    public var savesProgress: Bool { if case .checkpointed = self { true } else { false } }
    public var packed: Bool { if case .checkpointed(_, let packed) = self { packed } else { false } }
}

/// What a stage kind stores per cell: named metrics and artifacts (each with a unit and a doc string) and the
/// prose for its outputs object and generations. `StageContext.commit` refuses a metric or artifact a declaration
/// does not list; the report reads metrics through `StageOutputs.metric(_:of:)`.
public struct StageOutputs: Sendable {
    public struct Item: Sendable {
        public var name: String
        /// The unit of a metric ("%", "nats", "s", "count"), or what an artifact file is.
        public var unit: String
        public var doc: String
        public init(_ name: String, _ unit: String, _ doc: String) {
            self.name = name
            self.unit = unit
            self.doc = doc
        }
    }

    public var metrics: [Item]
    public var artifacts: [Item]
    /// The outputs object and generations, as docs/RESULTS.md describes them.
    public var notes: String

    public init(metrics: [Item], artifacts: [Item] = [], notes: String) {
        self.metrics = metrics
        self.artifacts = artifacts
        self.notes = notes
    }

    public func declares(metric name: String) -> Bool { metrics.contains { $0.name == name } }
    public func declares(artifact name: String) -> Bool { artifacts.contains { $0.name == name } }

    /// `name` when `kind` declares it as a metric; a `StageOutputsError` otherwise. Every metric a report reads is
    /// looked up here.
    public static func metric(_ name: String, of kind: StageKind) throws -> String {
        guard let declaration = StageDeclaration.of(kind), declaration.outputs.declares(metric: name) else {
            throw StageOutputsError("the report reads metric `\(name)` of \(kind), which its declaration does not list")
        }
        return name
    }

    /// The names of `result` that this declaration does not list; nil when all are declared.
    func undeclared(in result: CellResult) -> String? {
        let metrics = result.metrics.keys.filter { !declares(metric: $0) }.sorted()
        let artifacts = result.artifacts.keys.filter { !declares(artifact: $0) }.sorted()
        guard !metrics.isEmpty || !artifacts.isEmpty else { return nil }
        return (metrics.map { "metric `\($0)`" } + artifacts.map { "artifact `\($0)`" }).joined(separator: ", ")
    }
}

/// A runner stored, or a report read, an output its kind's declaration does not list.
public struct StageOutputsError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
