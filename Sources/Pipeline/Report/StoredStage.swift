import Foundation
import Experiments

/// One stored stage as a report reads it: id, kind, resolved parameters, its finished cells and (for `evaluate`
/// stages) the scored generations of each cell, by cell index.
public struct StoredStage: Sendable {
    public var stageID: String
    public var kind: StageKind?
    public var key: String
    /// The resolved parameters (`stages.params_json`), `{}` when unreadable.
    public var params: JSONValue
    /// Cells with status done, in index order (pending or failed cells are left out of every table).
    public var cells: [CellRecord]
    /// How many cells the stage has in all, done or not (`stages.cells_total`).
    public var cellsTotal: Int
    /// Cell index → generations (evaluate stages only; empty elsewhere).
    public var generations: [Int: [Generation]]

    public init(stageID: String, kind: StageKind?, key: String, params: JSONValue = .object([]), cells: [CellRecord],
                cellsTotal: Int? = nil, generations: [Int: [Generation]] = [:]) {
        self.stageID = stageID
        self.kind = kind
        self.key = key
        self.params = params
        self.cells = cells
        self.cellsTotal = cellsTotal ?? cells.count
        self.generations = generations
    }

    /// Reads stage `key` (recorded under `stageID`) from `store`.
    public static func load(_ store: Store, key: String, stageID: String) throws -> StoredStage {
        guard let record = try store.stage(key) else {
            throw StoreError("report: stage \"\(stageID)\" (key \(key.prefix(12))…) is not in \(store.databaseURL.path)")
        }
        let paramsText = try store.db.query("SELECT params_json FROM stages WHERE key = ?", [.text(key)]).first?[0].string ?? "{}"
        let params = (try? JSONParser.parse(paramsText)) ?? .object([])
        let kind = StageKind(rawValue: record.kind)
        let cells = try store.cells(key).filter { $0.status == .done }
        var generations: [Int: [Generation]] = [:]
        if kind == .evaluate {
            for c in cells { generations[c.index] = try store.generations(key, cell: c.index) }
        }
        return StoredStage(stageID: stageID, kind: kind, key: key, params: params, cells: cells, cellsTotal: record.cellsTotal,
                           generations: generations)
    }

    /// Whether every cell of the stage is done.
    var isComplete: Bool { cells.count >= cellsTotal }

    /// A text value of the cell's outputs, else of the stage's parameters.
    func text(_ name: String, cell: CellRecord) -> String? {
        cell.outputs[name]?.stringValue ?? params[name]?.stringValue
    }

    /// How a cell is named in tables: the stage id, plus its coordinates when the stage has several cells or the
    /// cell has coordinates (`sweep layer=15 multiplier=19`).
    func label(_ cell: CellRecord) -> String {
        let coordinates = cell.coordinates.objectValue ?? []
        guard !coordinates.isEmpty else { return stageID }
        return stageID + " " + coordinates.map { "\($0.key)=\(StoredStage.coordinateText($0.value))" }.joined(separator: " ")
    }

    /// A coordinate value as text: numbers without trailing zeros, strings bare, others as canonical JSON.
    static func coordinateText(_ v: JSONValue) -> String {
        if let s = v.stringValue { return s }
        if let d = v.doubleValue { return ReportNumber.trimmed(d, 8) }
        return CanonicalJSON.encode(v)
    }
}

/// Which stages a report covers: those of the latest run (or a given run), or the named ones.
public enum ReportSources {
    /// The stages of run `runID` (default: the latest run) in plan order, leaving out `report` stages, and the run.
    public static func run(_ store: Store, runID: Int? = nil) throws -> (run: RunRecord, stages: [StoredStage]) {
        let runs = try store.runs()
        guard let run = runID.map({ id in runs.first { $0.id == id } }) ?? runs.last else {
            throw StoreError(runID.map { "no run \($0) recorded in \(store.directory.path)" } ?? "no runs recorded in \(store.directory.path)")
        }
        var stages: [StoredStage] = []
        for s in try store.runStages(run.id) {
            guard let record = try store.stage(s.key), record.kind != StageKind.report.rawValue else { continue }
            stages.append(try StoredStage.load(store, key: s.key, stageID: s.stageID))
        }
        return (run, stages)
    }
}
