import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The results of one results directory: an SQLite database (`reptune.sqlite`, WAL) holding runs, stages, sweep
/// cells, metrics, generations and artifact references, and an `artifacts/` folder of files named by sha256.
/// One `Store` is one connection: open one per thread (or process); SQLite serialises the writers.
public final class Store {
    public static let databaseName = "reptune.sqlite"

    public let directory: URL
    public let db: SQLiteConnection
    /// Opened read-only (`query`, `status`, planning a dry run): nothing is written, not even the digest cache.
    public let isReadOnly: Bool
    /// The schema version of the database (older than `StoreSchema.version` only when opened read-only).
    public let schemaVersion: Int
    /// A claim whose lease was last renewed longer ago than this is treated as abandoned even when its owner's
    /// process cannot be checked (another host) or is alive but stalled: the scheduler's heartbeat renews the leases
    /// of the cells it computes every `RunLiveness.heartbeatInterval` seconds (`renewLeases`).
    public var lease: TimeInterval = Store.defaultLease
    /// Ten heartbeats: a runner whose heartbeat thread is held up for minutes (a busy disk) keeps its cells.
    public static let defaultLease = 10 * RunLiveness.heartbeatInterval

    public var databaseURL: URL { directory.appendingPathComponent(Self.databaseName) }
    public var artifactsDirectory: URL { directory.appendingPathComponent("artifacts") }

    /// Opens (creating if needed) the store in `directory` and brings its schema up to date.
    public init(directory: URL, busyTimeout: TimeInterval = 60) throws {
        self.directory = directory.standardizedFileURL
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        db = try SQLiteConnection(path: directory.appendingPathComponent(Self.databaseName).path, busyTimeout: busyTimeout)
        isReadOnly = false
        try Self.migrate(db, path: directory.appendingPathComponent(Self.databaseName).path)
        schemaVersion = StoreSchema.version
    }

    /// Opens the store of a results directory that must already have one (`gc`, `pack`): a mistyped directory is
    /// an error, not a new empty store.
    public convenience init(existingDirectory directory: URL) throws {
        let path = directory.appendingPathComponent(Self.databaseName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError("no results database at \(path) (run `reptune run` first)")
        }
        try self.init(directory: directory)
    }

    /// An empty store held in memory, standing for a results directory that has no database yet (a dry run plans
    /// against it without creating anything).
    public init(emptyStandingFor directory: URL) throws {
        self.directory = directory.standardizedFileURL
        db = try SQLiteConnection(path: ":memory:")
        isReadOnly = false
        try Self.migrate(db, path: ":memory:")
        schemaVersion = StoreSchema.version
    }

    /// The store a dry run plans against: the results directory's database opened read-only, or an empty one in
    /// memory when it has none — so planning never creates or changes a results directory.
    public static func forPlanning(_ directory: URL) throws -> Store {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(databaseName).path)
            ? try Store(readOnlyDirectory: directory) : try Store(emptyStandingFor: directory)
    }

    /// Opens an existing store read-only (for `reptune query`); fails if there is none. `snapshot`: read the database
    /// from that file instead, opened immutable (`StoreSnapshot`), the results directory's files from `directory`.
    public init(readOnlyDirectory directory: URL, snapshot: URL? = nil) throws {
        self.directory = directory.standardizedFileURL
        let path = snapshot?.path ?? directory.appendingPathComponent(Self.databaseName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError("no results database at \(path) (run `reptune run` first)")
        }
        db = try SQLiteConnection(path: path, readOnly: true, immutable: snapshot != nil)
        isReadOnly = true
        let version = try db.userVersion
        guard version <= StoreSchema.version else {
            throw StoreError("\(path) has schema version \(version), newer than this reptune's \(StoreSchema.version)")
        }
        schemaVersion = version
    }

    static var now: Double { Date().timeIntervalSince1970 }

    private static func migrate(_ db: SQLiteConnection, path: String) throws {
        let version = try db.userVersion
        if version == StoreSchema.version { return }
        guard version < StoreSchema.version else {
            throw StoreError("\(path) has schema version \(version), newer than this reptune's \(StoreSchema.version); upgrade reptune")
        }
        try db.transaction {
            // Re-read inside the write lock: another process may have migrated meanwhile.
            let current = try db.userVersion
            for (i, sql) in StoreSchema.migrations.enumerated() where i >= current {
                try db.execute(sql)
            }
            try db.execute("PRAGMA user_version = \(StoreSchema.version)")
        }
    }

    // MARK: runs

    public func beginRun(manifest: Manifest, optionsJSON: String = "{}", claimer: Claimer) throws -> Int {
        let me = claimer.pid == ProcessIdentity.current.pid ? ProcessIdentity.current : ProcessIdentity(pid: claimer.pid, host: claimer.host, token: nil)
        try db.run("""
            INSERT INTO runs (manifest_name, manifest_path, base_directory, manifest_text, options_json, pid, host, started_at,
                              process, heartbeat_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(manifest.name), SQLValue(manifest.file?.path), .text(manifest.baseDirectory.path), .text(manifest.text),
                  .text(optionsJSON), .integer(Int64(claimer.pid)), .text(claimer.host), .real(Self.now), SQLValue(me.token),
                  .real(Self.now)])
        return Int(db.lastInsertRowID)
    }

    /// Takes run `id` up again (`reptune resume`): running, owned by this process, one more resume.
    public func continueRun(_ id: Int, claimer: Claimer) throws {
        try db.run("""
            UPDATE runs SET status = 'running', finished_at = NULL, pid = ?, host = ?, process = ?, heartbeat_at = ?,
            resumes = resumes + 1 WHERE id = ?
            """, [.integer(Int64(claimer.pid)), .text(claimer.host), SQLValue(ProcessIdentity.current.token), .real(Self.now),
                  .integer(Int64(id))])
    }

    /// Records how run `id` ended — unless another process has taken it up since (a concurrent resume), which then
    /// records its own ending.
    public func finishRun(_ id: Int, status: String) throws {
        try db.run("UPDATE runs SET status = ?, finished_at = ? WHERE id = ? AND (process IS ? OR process IS NULL)",
                   [.text(status), .real(Self.now), .integer(Int64(id)), SQLValue(ProcessIdentity.current.token)])
    }

    /// This process is alive and still running run `id`.
    public func heartbeat(_ id: Int) throws {
        try db.run("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'", [.real(Self.now), .integer(Int64(id))])
    }

    /// Marks `interrupted` every run stored as running whose process is gone (`RunLiveness`); returns their ids.
    @discardableResult
    public func markGoneRunsInterrupted() throws -> [Int] {
        let gone = try runs().filter { $0.status == "running" && RunLiveness.isGone($0) }.map(\.id)
        for id in gone {
            try db.run("UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, heartbeat_at, started_at) WHERE id = ? AND status = 'running'",
                       [.integer(Int64(id))])
        }
        return gone
    }

    public func recordRunStages(_ id: Int, stages: [(stageID: String, key: String)]) throws {
        try db.transaction {
            for (position, s) in stages.enumerated() {
                try db.run("INSERT OR REPLACE INTO run_stages (run_id, stage_id, stage_key, position) VALUES (?, ?, ?, ?)",
                           [.integer(Int64(id)), .text(s.stageID), .text(s.key), .integer(Int64(position))])
            }
        }
    }

    public func runs() throws -> [RunRecord] {
        try db.query("SELECT * FROM runs ORDER BY id").map { r in
            RunRecord(id: r["id"].int ?? 0, name: r["manifest_name"].string ?? "", manifestPath: r["manifest_path"].string,
                      baseDirectory: r["base_directory"].string ?? "", manifestText: r["manifest_text"].string ?? "",
                      optionsJSON: r["options_json"].string ?? "{}", status: r["status"].string ?? "",
                      startedAt: r["started_at"].double ?? 0, finishedAt: r["finished_at"].double,
                      process: r["pid"].int.map { ProcessIdentity(pid: Int32($0), host: r["host"].string ?? "", token: r["process"].string) },
                      heartbeatAt: r["heartbeat_at"].double, resumes: r["resumes"].int ?? 0)
        }
    }

    public func latestRun() throws -> RunRecord? { try runs().last }

    /// Stage ids and keys recorded for a run, in plan order.
    public func runStages(_ id: Int) throws -> [(stageID: String, key: String)] {
        try db.query("SELECT stage_id, stage_key FROM run_stages WHERE run_id = ? ORDER BY position", [.integer(Int64(id))])
            .map { (stageID: $0[0].string ?? "", key: $0[1].string ?? "") }
    }

    // MARK: stages

    /// Creates the stage and its cells unless they exist (another run or process may have created them). A stage
    /// that exists takes `stageID` as its name: the views name a key by the id it was last run under (two manifests
    /// may share a computation under different ids).
    public func ensureStage(key: String, stageID: String, kind: StageKind, paramsJSON: String, keyJSON: String,
                            cells: [SweepCell]) throws {
        try db.transaction {
            let inserted = try db.run("""
                INSERT OR IGNORE INTO stages (key, stage_id, kind, params_json, key_json, cells_total, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(key), .text(stageID), .text(kind.rawValue), .text(paramsJSON), .text(keyJSON),
                      .integer(Int64(cells.count)), .real(Self.now)])
            guard inserted > 0 else {
                try db.run("UPDATE stages SET stage_id = ? WHERE key = ? AND stage_id <> ?", [.text(stageID), .text(key), .text(stageID)])
                return
            }
            for cell in cells {
                try db.run("INSERT OR IGNORE INTO cells (stage_key, cell_index, coordinates_json) VALUES (?, ?, ?)",
                           [.text(key), .integer(Int64(cell.index)), .text(cell.coordinatesJSON)])
            }
        }
    }

    public func stage(_ key: String) throws -> StageRecord? {
        try db.query("SELECT * FROM stages WHERE key = ?", [.text(key)]).first.map(Self.stageRecord)
    }

    /// The key material (`StageKey.material`) a stage id was last run under with a key other than `other`: from the
    /// latest run that recorded the id, else the latest stage stored under it; nil when there is none.
    public func latestKeyMaterial(stageID: String, other: String) throws -> String? {
        try db.query("""
            SELECT s.key_json FROM stages s LEFT JOIN run_stages r ON r.stage_key = s.key AND r.stage_id = s.stage_id
            WHERE s.stage_id = ? AND s.key != ? ORDER BY coalesce(r.run_id, 0) DESC, s.created_at DESC LIMIT 1
            """, [.text(stageID), .text(other)]).first?[0].string
    }

    public func stages() throws -> [StageRecord] {
        try db.query("SELECT * FROM stages ORDER BY created_at, key").map(Self.stageRecord)
    }

    static func stageRecord(_ r: SQLRow) -> StageRecord {
        StageRecord(key: r["key"].string ?? "", stageID: r["stage_id"].string ?? "", kind: r["kind"].string ?? "",
                    status: WorkStatus(rawValue: r["status"].string ?? "") ?? .pending, cellsTotal: r["cells_total"].int ?? 0,
                    startedAt: r["started_at"].double, finishedAt: r["finished_at"].double, error: r["error"].string)
    }

    /// Marks a stage running (first start time kept), done or failed (with its error).
    public func setStageStatus(_ key: String, _ status: WorkStatus, error: String? = nil) throws {
        switch status {
        case .running:
            try db.run("UPDATE stages SET status = 'running', error = NULL, started_at = coalesce(started_at, ?), finished_at = NULL WHERE key = ?",
                       [.real(Self.now), .text(key)])
        case .done, .failed:
            try db.run("UPDATE stages SET status = ?, error = ?, finished_at = ? WHERE key = ?",
                       [.text(status.rawValue), SQLValue(error), .real(Self.now), .text(key)])
        case .pending:
            try db.run("UPDATE stages SET status = 'pending', error = NULL, started_at = NULL, finished_at = NULL WHERE key = ?", [.text(key)])
        }
    }

    /// Forgets everything a stage computed (for `--force`): all its cells become pending again.
    public func resetStage(_ key: String) throws {
        try db.transaction {
            try db.run("DELETE FROM metrics WHERE stage_key = ?", [.text(key)])
            try db.run("DELETE FROM generations WHERE stage_key = ?", [.text(key)])
            try db.run("DELETE FROM cell_artifacts WHERE stage_key = ?", [.text(key)])
            try db.run("""
                UPDATE cells SET status = 'pending', metrics_json = NULL, outputs_json = NULL, error = NULL, claimed_by = NULL,
                claimed_pid = NULL, claimed_host = NULL, claimed_at = NULL, started_at = NULL, finished_at = NULL WHERE stage_key = ?
                """, [.text(key)])
            try setStageStatus(key, .pending)
        }
    }

    /// `resetStage` for a run that forces the stage (`--force`, or a restore) — unless another run that is still
    /// alive reset it already and is recomputing it: two concurrent `--force` runs of one stage then share its cells
    /// instead of computing it twice (one transaction, so exactly one of them resets).
    public func resetStageUnlessBeingRecomputed(_ key: String, by run: Int) throws {
        try db.transaction {
            if let resetter = try db.query("SELECT reset_by_run FROM stages WHERE key = ?", [.text(key)]).first?[0].int,
               resetter != run,
               let other = try runs().first(where: { $0.id == resetter }),
               other.status == "running", !RunLiveness.isGone(other) {
                return
            }
            try resetStage(key)
            try db.run("UPDATE stages SET reset_by_run = ? WHERE key = ?", [.integer(Int64(run)), .text(key)])
        }
    }

    /// Makes failed cells pending again so a new run retries them.
    public func retryFailedCells(_ key: String) throws {
        try db.run("UPDATE cells SET status = 'pending', error = NULL, claimed_by = NULL WHERE stage_key = ? AND status = 'failed'", [.text(key)])
    }

    public func cellCounts(_ key: String) throws -> CellCounts {
        var counts = CellCounts()
        for r in try db.query("SELECT status, count(*) FROM cells WHERE stage_key = ? GROUP BY status", [.text(key)]) {
            let n = r[1].int ?? 0
            switch WorkStatus(rawValue: r[0].string ?? "") {
            case .pending: counts.pending = n
            case .running: counts.running = n
            case .done: counts.done = n
            case .failed: counts.failed = n
            case nil: break
            }
        }
        return counts
    }

    // MARK: cells

    /// Claims up to `limit` pending cells of a stage, lowest index first, after returning to pending the cells
    /// whose claimer died (same host, process gone) or whose lease expired. One transaction: two processes never
    /// claim the same cell.
    public func claimCells(_ key: String, limit: Int, claimer: Claimer, among indices: [Int]? = nil) throws -> [SweepCell] {
        let restriction = indices.map { " AND cell_index IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
        return try db.transaction {
            try recoverStaleClaimsInTransaction(key, claimer: claimer)
            let rows = try db.query("""
                SELECT cell_index, coordinates_json FROM cells WHERE stage_key = ? AND status = 'pending'\(restriction)
                ORDER BY cell_index LIMIT ?
                """, [.text(key), .integer(Int64(limit))])
            var cells: [SweepCell] = []
            for r in rows {
                let index = r[0].int ?? 0
                try db.run("""
                    UPDATE cells SET status = 'running', claimed_by = ?, claimed_pid = ?, claimed_host = ?, claimed_at = ?,
                    started_at = ?, attempts = attempts + 1 WHERE stage_key = ? AND cell_index = ? AND status = 'pending'
                    """, [.text(claimer.token), .integer(Int64(claimer.pid)), .text(claimer.host), .real(Self.now), .real(Self.now),
                          .text(key), .integer(Int64(index))])
                let coordinates = (try? JSONParser.parse(r[1].string ?? "{}"))?.objectValue ?? []
                cells.append(SweepCell(index: index, coordinates: coordinates))
            }
            return cells
        }
    }

    /// Returns to pending the cells of `key` whose claimer died or whose lease expired.
    public func recoverStaleClaims(_ key: String, claimer: Claimer) throws {
        try db.transaction { try recoverStaleClaimsInTransaction(key, claimer: claimer) }
    }

    private func recoverStaleClaimsInTransaction(_ key: String, claimer: Claimer) throws {
        let rows = try db.query("""
            SELECT DISTINCT claimed_by, claimed_pid, claimed_host, max(claimed_at) FROM cells
            WHERE stage_key = ? AND status = 'running' AND claimed_by IS NOT ? GROUP BY claimed_by
            """, [.text(key), .text(claimer.token)])
        for r in rows {
            let token = r[0].string
            let pid = Int32(r[1].int ?? 0)
            let host = r[2].string
            let claimedAt = r[3].double ?? 0
            var stale = Self.now - claimedAt > lease
            if host == claimer.host, pid > 0, pid != claimer.pid, !Self.processIsAlive(pid) { stale = true }
            if token == nil { stale = true }
            if stale {
                try db.run("""
                    UPDATE cells SET status = 'pending', claimed_by = NULL, claimed_pid = NULL, claimed_host = NULL, claimed_at = NULL
                    WHERE stage_key = ? AND status = 'running' AND claimed_by IS ?
                    """, [.text(key), SQLValue(token)])
            }
        }
    }

    static func processIsAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// Renews the leases of the cells `claimer` is computing (the run's heartbeat does, while its cells run).
    public func renewLeases(_ claimer: Claimer) throws {
        try db.run("UPDATE cells SET claimed_at = ? WHERE claimed_by = ? AND status = 'running'", [.real(Self.now), .text(claimer.token)])
    }

    /// Stores a finished cell and everything it produced in one transaction. Returns false (storing nothing) when
    /// the cell is no longer claimed by `claimer` — its claim was recovered by another process that may have
    /// recomputed it already.
    @discardableResult
    public func commitCell(_ key: String, _ cell: SweepCell, _ result: CellResult, claimer: Claimer) throws -> Bool {
        try db.transaction {
            let k = SQLValue.text(key), i = SQLValue.integer(Int64(cell.index))
            let changed = try db.run("""
                UPDATE cells SET status = 'done', metrics_json = ?, outputs_json = ?, error = NULL, finished_at = ?,
                claimed_by = NULL, claimed_at = NULL WHERE stage_key = ? AND cell_index = ? AND status = 'running' AND claimed_by = ?
                """, [.text(result.metricsJSON), .text(CanonicalJSON.encode(result.outputs)), .real(Self.now), k, i, .text(claimer.token)])
            guard changed == 1 else { return false }
            try insertOutputs(of: result, key: key, cell: cell.index)
            return true
        }
    }

    /// Records what a finished cell produced — metrics, generations, artifact references — inside the caller's
    /// transaction (`commitCell`, and `ingest` of a worker's bundle).
    func insertOutputs(of result: CellResult, key: String, cell index: Int) throws {
        let k = SQLValue.text(key), i = SQLValue.integer(Int64(index))
        for name in result.metrics.keys.sorted() {
            let v = result.metrics[name] ?? .nan
            try db.run("INSERT OR REPLACE INTO metrics (stage_key, cell_index, name, value) VALUES (?, ?, ?, ?)",
                       [k, i, .text(name), v.isFinite ? .real(v) : .null])
        }
        for g in result.generations {
            try db.run("INSERT OR REPLACE INTO generations (stage_key, cell_index, item, prompt, output, score, meta_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [k, i, .integer(Int64(g.item)), .text(g.prompt), .text(g.output), SQLValue(g.score),
                        SQLValue(g.meta.map(CanonicalJSON.encode))])
        }
        for name in result.artifacts.keys.sorted() {
            guard let a = result.artifacts[name] else { continue }
            try db.run("INSERT OR IGNORE INTO artifacts (sha256, path, bytes, created_at) VALUES (?, ?, ?, ?)",
                       [.text(a.sha256), .text(a.path), .integer(Int64(a.bytes)), .real(Self.now)])
            try db.run("INSERT OR REPLACE INTO cell_artifacts (stage_key, cell_index, name, sha256) VALUES (?, ?, ?, ?)",
                       [k, i, .text(name), .text(a.sha256)])
        }
    }

    /// Stores a cell's error; the stage is failed by the scheduler.
    public func failCell(_ key: String, _ cell: SweepCell, error: String, claimer: Claimer) throws {
        try db.run("""
            UPDATE cells SET status = 'failed', error = ?, finished_at = ?, claimed_by = NULL
            WHERE stage_key = ? AND cell_index = ? AND claimed_by = ?
            """, [.text(error), .real(Self.now), .text(key), .integer(Int64(cell.index)), .text(claimer.token)])
    }

    /// Returns claimed cells to pending (cancelled before or while computing them).
    public func releaseCells(_ key: String, _ cells: [SweepCell], claimer: Claimer) throws {
        try db.transaction {
            for cell in cells {
                try db.run("""
                    UPDATE cells SET status = 'pending', claimed_by = NULL, claimed_pid = NULL, claimed_host = NULL, claimed_at = NULL,
                    attempts = max(attempts - 1, 0) WHERE stage_key = ? AND cell_index = ? AND status = 'running' AND claimed_by = ?
                    """, [.text(key), .integer(Int64(cell.index)), .text(claimer.token)])
            }
        }
    }

    /// Paths (relative to the results directory) of the artifacts a stage's cells recorded that are not on disk.
    public func missingArtifacts(_ key: String) throws -> [String] {
        try db.query("""
            SELECT DISTINCT a.path FROM cell_artifacts ca JOIN artifacts a USING (sha256) WHERE ca.stage_key = ? ORDER BY a.path
            """, [.text(key)]).compactMap { $0[0].string }.filter {
            !FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
    }

    /// All cells of a stage in index order, with metrics, outputs and artifacts.
    public func cells(_ key: String) throws -> [CellRecord] {
        var artifacts: [Int: [String: ArtifactRef]] = [:]
        for r in try db.query("""
            SELECT ca.cell_index, ca.name, a.sha256, a.bytes, a.path FROM cell_artifacts ca JOIN artifacts a USING (sha256)
            WHERE ca.stage_key = ?
            """, [.text(key)]) {
            artifacts[r[0].int ?? 0, default: [:]][r[1].string ?? ""] = ArtifactRef(sha256: r[2].string ?? "", bytes: r[3].int ?? 0, path: r[4].string ?? "")
        }
        return try db.query("SELECT * FROM cells WHERE stage_key = ? ORDER BY cell_index", [.text(key)]).map { r in
            let index = r["cell_index"].int ?? 0
            var metrics: [String: Double] = [:]
            if let text = r["metrics_json"].string, let obj = (try? JSONParser.parse(text))?.objectValue {
                for m in obj { metrics[m.key] = m.value.doubleValue ?? .nan }
            }
            return CellRecord(stageKey: key, index: index,
                              coordinates: (try? JSONParser.parse(r["coordinates_json"].string ?? "{}")) ?? .object([]),
                              status: WorkStatus(rawValue: r["status"].string ?? "") ?? .pending, metrics: metrics,
                              outputs: r["outputs_json"].string.flatMap { try? JSONParser.parse($0) } ?? .object([]),
                              artifacts: artifacts[index] ?? [:], error: r["error"].string)
        }
    }

    public func generations(_ key: String, cell: Int) throws -> [Generation] {
        try db.query("SELECT item, prompt, output, score, meta_json FROM generations WHERE stage_key = ? AND cell_index = ? ORDER BY item",
                     [.text(key), .integer(Int64(cell))]).map {
            Generation(item: $0[0].int ?? 0, prompt: $0[1].string ?? "", output: $0[2].string ?? "", score: $0[3].double,
                       meta: $0[4].string.flatMap { try? JSONParser.parse($0) })
        }
    }
}

/// A results-directory problem that is not an SQLite error (missing database, newer schema, bad artifact).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
