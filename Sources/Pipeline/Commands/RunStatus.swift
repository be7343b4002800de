import Foundation

/// `reptune status`: the latest run of a results directory, each stage's cells done/total, failures, and an ETA
/// from the mean time of the cells computed so far.
public struct RunStatus: Sendable, CustomStringConvertible {
    /// One stage's line.
    public struct Row: Sendable {
        public var stageID: String
        public var kind: String
        public var key: String
        public var status: WorkStatus
        public var counts: CellCounts
        /// Seconds left if the remaining cells take as long as the finished ones did (one worker).
        public var eta: Double?
        public var error: String?
    }

    public var run: RunRecord
    public var rows: [Row]

    public static func load(_ store: Store) throws -> RunStatus {
        guard let run = try store.latestRun() else {
            throw StoreError("no runs recorded in \(store.directory.path)")
        }
        var rows: [Row] = []
        for s in try store.runStages(run.id) {
            guard let record = try store.stage(s.key) else { continue }
            let counts = try store.cellCounts(s.key)
            let mean = try store.db.query("""
                SELECT avg(finished_at - started_at) FROM cells WHERE stage_key = ? AND status = 'done' AND started_at IS NOT NULL
                """, [.text(s.key)]).first?[0].double
            let remaining = counts.pending + counts.running
            rows.append(Row(stageID: s.stageID, kind: record.kind, key: s.key, status: record.status, counts: counts,
                            eta: remaining > 0 ? mean.map { $0 * Double(remaining) } : nil, error: record.error))
        }
        return RunStatus(run: run, rows: rows)
    }

    public var description: String {
        let started = Date(timeIntervalSince1970: run.startedAt)
        var out = "run \(run.id) of \(run.name) (\(run.manifestPath ?? "manifest text")): \(run.status), started \(started)\n"
        let columns = ["stage", "kind", "status", "cells", "failed", "eta"]
        let table = rows.map { r -> [String] in
            [r.stageID, r.kind, r.status.rawValue, "\(r.counts.done)/\(r.counts.total)", r.counts.failed > 0 ? String(r.counts.failed) : "",
             r.eta.map(ProgressMeter.duration) ?? ""]
        }
        out += TextTable.render(columns: columns, rows: table, format: .table)
        for r in rows where r.error != nil { out += "\(r.stageID) failed: \(r.error ?? "")\n" }
        return out
    }
}

/// `reptune query`: read-only SQL over the documented views (`StoreSchema.views`), rendered as a table, CSV,
/// Markdown or JSON. The database is opened read-only and only one statement is accepted.
public enum ResultsQuery {
    public static func run(_ sql: String, in directory: URL, format: TableFormat = .table) throws -> String {
        let store = try Store(readOnlyDirectory: directory)
        let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        let single = trimmed.hasSuffix(";") ? String(trimmed.dropLast()) : trimmed
        guard try store.db.isReadOnly(single) else {
            throw StoreError("reptune query only reads: \(single)")
        }
        var columns: [String] = []
        var rows: [[SQLValue]] = []
        try store.db.forEach(single, []) { row in
            columns = row.columns
            rows.append(row.values)
        }
        if columns.isEmpty { return format == .json ? "[]\n" : "(no rows)\n" }
        if format == .json {
            let items = rows.map { r in
                CanonicalJSON.encode(.object(zip(columns, r).map { JSONMember(key: $0.0, value: json($0.1)) }))
            }
            return "[\n" + items.map { "  " + $0 }.joined(separator: ",\n") + "\n]\n"
        }
        return TextTable.render(columns: columns, rows: rows.map { $0.map { $0 == .null ? "" : $0.description } }, format: format)
    }

    static func json(_ v: SQLValue) -> JSONValue {
        switch v {
        case .null: return .null
        case .integer(let i): return .int(Int(i))
        case .real(let d): return d.isFinite ? .double(d) : .null
        case .text(let s): return .string(s)
        case .blob(let b): return .string("<\(b.count) bytes>")
        }
    }

    /// The help text listing the views.
    public static var viewsHelp: String {
        StoreSchema.views.map { "  \($0.name): \($0.doc)" }.joined(separator: "\n")
    }
}
