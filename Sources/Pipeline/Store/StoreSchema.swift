/// The results database's schema, as an ordered list of migrations. `PRAGMA user_version` records how many have
/// been applied; opening a store applies the rest in one transaction. Never edit a released migration: append.
public enum StoreSchema {
    public static let migrations: [String] = [
        // 1: runs, stages, cells, metrics, generations, artifacts, file digests, and the read-only views.
        """
        CREATE TABLE runs (
            id             INTEGER PRIMARY KEY,
            manifest_name  TEXT NOT NULL,
            manifest_path  TEXT,
            base_directory TEXT NOT NULL,
            manifest_text  TEXT NOT NULL,
            options_json   TEXT NOT NULL DEFAULT '{}',
            status         TEXT NOT NULL DEFAULT 'running'
                           CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
            pid            INTEGER,
            host           TEXT,
            started_at     REAL NOT NULL,
            finished_at    REAL
        );
        CREATE TABLE stages (
            key          TEXT PRIMARY KEY,
            stage_id     TEXT NOT NULL,
            kind         TEXT NOT NULL,
            params_json  TEXT NOT NULL,
            key_json     TEXT NOT NULL,
            status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
            cells_total  INTEGER NOT NULL,
            created_at   REAL NOT NULL,
            started_at   REAL,
            finished_at  REAL,
            error        TEXT
        );
        CREATE TABLE run_stages (
            run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            stage_id  TEXT NOT NULL,
            stage_key TEXT NOT NULL REFERENCES stages(key),
            position  INTEGER NOT NULL,
            PRIMARY KEY (run_id, stage_id)
        );
        CREATE TABLE cells (
            stage_key        TEXT NOT NULL REFERENCES stages(key) ON DELETE CASCADE,
            cell_index       INTEGER NOT NULL,
            coordinates_json TEXT NOT NULL,
            status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
            metrics_json     TEXT,
            outputs_json     TEXT,
            error            TEXT,
            claimed_by       TEXT,
            claimed_pid      INTEGER,
            claimed_host     TEXT,
            claimed_at       REAL,
            started_at       REAL,
            finished_at      REAL,
            attempts         INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (stage_key, cell_index)
        );
        CREATE INDEX cells_by_status ON cells(stage_key, status);
        CREATE TABLE metrics (
            stage_key  TEXT NOT NULL,
            cell_index INTEGER NOT NULL,
            name       TEXT NOT NULL,
            value      REAL,
            PRIMARY KEY (stage_key, cell_index, name),
            FOREIGN KEY (stage_key, cell_index) REFERENCES cells(stage_key, cell_index) ON DELETE CASCADE
        );
        CREATE TABLE generations (
            stage_key  TEXT NOT NULL,
            cell_index INTEGER NOT NULL,
            item       INTEGER NOT NULL,
            prompt     TEXT NOT NULL,
            output     TEXT NOT NULL,
            score      REAL,
            meta_json  TEXT,
            PRIMARY KEY (stage_key, cell_index, item),
            FOREIGN KEY (stage_key, cell_index) REFERENCES cells(stage_key, cell_index) ON DELETE CASCADE
        );
        CREATE TABLE artifacts (
            sha256     TEXT PRIMARY KEY,
            path       TEXT NOT NULL,
            bytes      INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE cell_artifacts (
            stage_key  TEXT NOT NULL,
            cell_index INTEGER NOT NULL,
            name       TEXT NOT NULL,
            sha256     TEXT NOT NULL REFERENCES artifacts(sha256),
            PRIMARY KEY (stage_key, cell_index, name),
            FOREIGN KEY (stage_key, cell_index) REFERENCES cells(stage_key, cell_index) ON DELETE CASCADE
        );
        CREATE TABLE file_digests (
            path      TEXT PRIMARY KEY,
            size      INTEGER NOT NULL,
            mtime     REAL NOT NULL,
            sha256    TEXT NOT NULL,
            hashed_at REAL NOT NULL
        );

        CREATE VIEW v_runs AS
            SELECT id AS run_id, manifest_name AS name, manifest_path, status, pid, host,
                   datetime(started_at, 'unixepoch') AS started, datetime(finished_at, 'unixepoch') AS finished
            FROM runs;
        CREATE VIEW v_stages AS
            SELECT s.stage_id, s.kind, s.key AS stage_key, s.status, s.cells_total,
                   (SELECT count(*) FROM cells c WHERE c.stage_key = s.key AND c.status = 'done') AS cells_done,
                   (SELECT count(*) FROM cells c WHERE c.stage_key = s.key AND c.status = 'failed') AS cells_failed,
                   datetime(s.started_at, 'unixepoch') AS started, datetime(s.finished_at, 'unixepoch') AS finished,
                   s.finished_at - s.started_at AS seconds, s.error, s.params_json
            FROM stages s;
        CREATE VIEW v_cells AS
            SELECT s.stage_id, s.kind, c.stage_key, c.cell_index, c.coordinates_json AS coordinates, c.status,
                   c.metrics_json AS metrics, c.outputs_json AS outputs, c.error, c.attempts,
                   c.finished_at - c.started_at AS seconds
            FROM cells c JOIN stages s ON s.key = c.stage_key;
        CREATE VIEW v_metrics AS
            SELECT s.stage_id, s.kind, m.stage_key, m.cell_index, c.coordinates_json AS coordinates, m.name, m.value
            FROM metrics m JOIN cells c USING (stage_key, cell_index) JOIN stages s ON s.key = m.stage_key;
        CREATE VIEW v_generations AS
            SELECT s.stage_id, s.kind, g.stage_key, g.cell_index, c.coordinates_json AS coordinates, g.item,
                   g.prompt, g.output, g.score, g.meta_json AS meta
            FROM generations g JOIN cells c USING (stage_key, cell_index) JOIN stages s ON s.key = g.stage_key;
        CREATE VIEW v_artifacts AS
            SELECT s.stage_id, ca.stage_key, ca.cell_index, ca.name, a.sha256, a.path, a.bytes
            FROM cell_artifacts ca JOIN artifacts a USING (sha256) JOIN stages s ON s.key = ca.stage_key;
        """,
        // 2: content-safe digest cache (file identity incl. status-change time), run liveness (process identity,
        // heartbeat, resumes continue their run), which run last reset a forced stage; v_runs shows a running run
        // whose heartbeat stopped as interrupted.
        """
        ALTER TABLE file_digests ADD COLUMN identity TEXT;
        ALTER TABLE runs ADD COLUMN process TEXT;
        ALTER TABLE runs ADD COLUMN heartbeat_at REAL;
        ALTER TABLE runs ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE stages ADD COLUMN reset_by_run INTEGER;
        DROP VIEW v_runs;
        CREATE VIEW v_runs AS
            SELECT id AS run_id, manifest_name AS name, manifest_path,
                   CASE WHEN status = 'running'
                             AND coalesce(heartbeat_at, started_at) < CAST(strftime('%s', 'now') AS REAL) - 120
                        THEN 'interrupted' ELSE status END AS status,
                   pid, host, resumes, datetime(started_at, 'unixepoch') AS started,
                   datetime(finished_at, 'unixepoch') AS finished, datetime(heartbeat_at, 'unixepoch') AS heartbeat
            FROM runs;
        """,
        // 3: units of work handed to workers by the processes and slurm executors (which job or process computes
        // them, its state and attempts), so that `status` shows them and `resume` re-attaches instead of submitting
        // again; the runs' executors.
        """
        CREATE TABLE units (
            stage_key TEXT NOT NULL, cells TEXT NOT NULL, run_id INTEGER, executor TEXT NOT NULL,
            job TEXT, state TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
            submitted_at REAL, worker_started_at REAL, worker_finished_at REAL, ingested_at REAL, worker_host TEXT,
            PRIMARY KEY (stage_key, cells));
        ALTER TABLE runs ADD COLUMN executor TEXT NOT NULL DEFAULT 'local';
        CREATE VIEW v_units AS
            SELECT s.stage_id, u.stage_key, u.cells, u.run_id, u.executor, u.job, u.state, u.reason, u.attempts, u.error,
                   datetime(u.submitted_at, 'unixepoch') AS submitted, u.worker_host,
                   u.worker_started_at - u.submitted_at AS start_seconds, u.worker_finished_at - u.worker_started_at AS work_seconds,
                   u.ingested_at - u.worker_finished_at AS ingest_seconds
            FROM units u LEFT JOIN stages s ON s.key = u.stage_key;
        """,
    ]

    /// The views `reptune query` documents, with one line each.
    public static let views: [(name: String, doc: String)] = [
        ("v_runs", "one row per run (a resume continues its run): run_id, name, manifest_path, status (a running run whose heartbeat stopped shows as interrupted), pid, host, resumes, started, finished, heartbeat"),
        ("v_stages", "one row per cached stage: stage_id, kind, stage_key, status, cells_total, cells_done, cells_failed, started, finished, seconds, error, params_json"),
        ("v_cells", "one row per sweep cell: stage_id, kind, stage_key, cell_index, coordinates (JSON), status, metrics (JSON), outputs (JSON), error, attempts, seconds"),
        ("v_metrics", "one row per metric of a cell: stage_id, kind, stage_key, cell_index, coordinates, name, value"),
        ("v_generations", "one row per generated answer: stage_id, kind, stage_key, cell_index, coordinates, item, prompt, output, score, meta"),
        ("v_artifacts", "one row per file a cell produced: stage_id, stage_key, cell_index, name, sha256, path, bytes"),
        ("v_units", "one row per unit of work handed to a worker (--executor processes|slurm): stage_id, stage_key, cells, run_id, executor, job (Slurm job id or pid), state, reason, attempts, error, submitted, worker_host, start_seconds (submission to worker start), work_seconds, ingest_seconds (bundle written to ingested)"),
    ]

    public static var version: Int { migrations.count }
}
