import Foundation

/// A unit of work as the store records it: which executor and job (Slurm job id, or `pid:<process token>`) computes
/// it, its state (`submitted`, `pending`, `running`, `done`, `failed`, `retrying`), the scheduler's reason, attempts so
/// far and the last error. `reptune status` shows these; `reptune resume` re-attaches to the units not finished.
public struct UnitRecord: Sendable, Hashable {
    public var unit: WorkUnit
    public var runID: Int?
    public var executor: String
    public var job: String?
    public var state: String
    public var reason: String?
    public var attempts: Int
    public var error: String?
    public var submittedAt: Double?

    /// Still with its worker: re-attached to on resume.
    public var isActive: Bool { ["submitted", "pending", "running"].contains(state) }
}

extension Store {
    /// Records that `unit` was handed to `job` (attempt `attempts`).
    public func recordSubmission(_ unit: WorkUnit, run: Int?, executor: String, job: String, attempts: Int) throws {
        try db.run("""
            INSERT OR REPLACE INTO units (stage_key, cells, run_id, executor, job, state, attempts, submitted_at)
            VALUES (?, ?, ?, ?, ?, 'submitted', ?, ?)
            """, [.text(unit.stageKey), .text(unit.cellList), SQLValue(run), .text(executor), .text(job), .integer(Int64(attempts)),
                  .real(Self.now)])
    }

    /// Updates a unit's state (and reason or error).
    public func updateUnit(_ unit: WorkUnit, state: String, reason: String? = nil, error: String? = nil, worker: WorkerStamp? = nil) throws {
        try db.run("""
            UPDATE units SET state = ?, reason = ?, error = coalesce(?, error), worker_host = coalesce(?, worker_host),
            worker_started_at = coalesce(?, worker_started_at), worker_finished_at = coalesce(?, worker_finished_at),
            ingested_at = CASE WHEN ? = 'done' THEN ? ELSE ingested_at END WHERE stage_key = ? AND cells = ?
            """, [.text(state), SQLValue(reason), SQLValue(error), SQLValue(worker?.host), SQLValue(worker?.startedAt),
                  SQLValue(worker?.finishedAt), .text(state), .real(Self.now), .text(unit.stageKey), .text(unit.cellList)])
    }

    /// The units recorded for a stage (every stage when nil), in submission order.
    public func units(stageKey: String? = nil) throws -> [UnitRecord] {
        let rows = try stageKey.map { try db.query("SELECT * FROM units WHERE stage_key = ? ORDER BY submitted_at", [.text($0)]) }
            ?? db.query("SELECT * FROM units ORDER BY submitted_at")
        return rows.compactMap { r in
            guard let key = r["stage_key"].string, let cells = r["cells"].string,
                  let unit = try? WorkUnit(parsing: "\(key):\(cells)", allCells: []) else { return nil }
            return UnitRecord(unit: unit, runID: r["run_id"].int, executor: r["executor"].string ?? "", job: r["job"].string,
                              state: r["state"].string ?? "", reason: r["reason"].string, attempts: r["attempts"].int ?? 0,
                              error: r["error"].string, submittedAt: r["submitted_at"].double)
        }
    }

    /// Records the executor a run uses (`local`, `processes`, `slurm`).
    public func setRunExecutor(_ run: Int, _ executor: String) throws {
        try db.run("UPDATE runs SET executor = ? WHERE id = ?", [.text(executor), .integer(Int64(run))])
    }

    /// The executor a stored run used.
    public func runExecutor(_ run: Int) throws -> String {
        try db.query("SELECT executor FROM runs WHERE id = ?", [.integer(Int64(run))]).first?[0].string ?? "local"
    }
}
