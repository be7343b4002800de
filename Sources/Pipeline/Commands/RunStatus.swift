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
    /// The units of the run's stages handed to workers (`--executor processes|slurm`), with their job, state and reason;
    /// the state of a Slurm job not yet finished is asked of Slurm now.
    public var units: [UnitRecord] = []
    /// The results directory.
    public var directory: String = ""

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
        var status = RunStatus(run: run, rows: rows, directory: store.directory.path)
        if store.schemaVersion >= 3 {
            let keys = Set(rows.map(\.key))
            status.units = try store.units().filter { keys.contains($0.unit.stageKey) }.map { record in
                guard record.isActive, record.executor == "slurm", let job = record.job else { return record }
                var live = record
                switch SlurmQueue.state(of: job) {
                case .active(let state, let reason): live.state = state.lowercased(); live.reason = reason
                case .ended(let state, let reason): live.state = "ended \(state.lowercased())"; live.reason = reason
                }
                return live
            }
        }
        return status
    }

    public var description: String {
        let started = Date(timeIntervalSince1970: run.startedAt)
        let status = run.liveStatus
        var out = "run \(run.id) of \(run.name) (\(run.manifestPath ?? "manifest text")): \(status), started \(started)"
        if run.resumes > 0 { out += ", resumed \(run.resumes) time\(run.resumes == 1 ? "" : "s")" }
        if status != run.status, let process = run.process {
            out += " (stored as \(run.status), but \(process) is gone; `reptune resume \(directory)` continues it)"
        }
        out += "\n"
        let columns = ["stage", "kind", "status", "cells", "failed", "eta"]
        let table = rows.map { r -> [String] in
            [r.stageID, r.kind, r.status.rawValue, "\(r.counts.done)/\(r.counts.total)", r.counts.failed > 0 ? String(r.counts.failed) : "",
             r.eta.map(ProgressMeter.duration) ?? ""]
        }
        out += TextTable.render(columns: columns, rows: table, format: .table)
        for r in rows where r.error != nil { out += "\(r.stageID) failed: \(r.error ?? "")\n" }
        if !units.isEmpty {
            let names = Dictionary(rows.map { ($0.key, $0.stageID) }, uniquingKeysWith: { a, _ in a })
            out += "units (\(units.first?.executor ?? "")):\n"
            out += TextTable.render(columns: ["stage", "cells", "job", "state", "reason", "attempts", "error"], rows: units.map { u in
                [names[u.unit.stageKey] ?? String(u.unit.stageKey.prefix(12)), u.unit.cellList, u.job ?? "", u.state, u.reason ?? "",
                 String(u.attempts), u.error.map { String($0.prefix(120)) } ?? ""]
            }, format: .table)
        }
        return out
    }
}

/// `reptune query`: read-only SQL over the documented views (`StoreSchema.views`), rendered as a table, CSV,
/// Markdown or JSON. The database is opened read-only and only one statement is accepted.
///
/// A statement runs until it finishes, `timeout` seconds pass, or `cancellation` is set (Ctrl-C): SQLite's progress
/// handler checks both, so even a statement that never ends (a recursive query without a limit) stops.
public enum ResultsQuery {
    public static func run(_ sql: String, in directory: URL, format: TableFormat = .table, timeout: TimeInterval? = nil,
                           cancellation: CancellationFlag? = nil) throws -> String {
        let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        let single = trimmed.hasSuffix(";") ? String(trimmed.dropLast()) : trimmed
        guard !single.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";"))).isEmpty else {
            throw QueryError("the SQL is empty: give one SELECT statement over the v_* views (docs/RESULTS.md)")
        }
        let store = try Store(readOnlyDirectory: directory)
        guard try store.db.isReadOnly(single) else {
            throw StoreError("reptune query only reads: \(single)")
        }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        store.db.setProgressHandler {
            cancellation?.isCancelled == true || deadline.map { Date() >= $0 } == true
        }
        var columns: [String] = []
        var rows: [[SQLValue]] = []
        let outcome: SQLiteError?
        do {
            try store.db.forEach(single, []) { row in
                columns = row.columns
                rows.append(row.values)
            }
            outcome = nil
        } catch {
            outcome = error
        }
        if let outcome {
            guard outcome.isInterrupt else { throw outcome }
            if cancellation?.isCancelled == true { throw QueryError("the query was interrupted (Ctrl-C)", interrupted: true) }
            throw QueryError("the query was stopped after \(ProgressMeter.duration(timeout ?? 0)) (--timeout \(PythonNumber.format(timeout ?? 0)))")
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

/// A query that cannot run (empty SQL) or was stopped (timeout, Ctrl-C).
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// Stopped by Ctrl-C (exit status 130) rather than by its timeout.
    public var interrupted: Bool

    public init(_ description: String, interrupted: Bool = false) {
        self.description = description
        self.interrupted = interrupted
    }
}
