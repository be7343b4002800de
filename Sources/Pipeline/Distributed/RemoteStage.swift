import Foundation

/// One stage computed by workers (`--executor processes|slurm`), on a coordinator thread: claims the stage's pending
/// cells in the store (the run's heartbeat renews the claims), splits them into units, writes the snapshot of the
/// database its workers read (`StoreSnapshot`, once per stage), hands the units to the executor, and ingests each
/// unit's bundle as it appears. A unit whose worker fails — an error in its bundle, or a job that ended without one
/// (`scancel`, node failure, time limit, OOM) — is handed out again after a backoff, up to the retry limit; then its
/// cells are failed with the worker's message and the stage fails, while the rest of the DAG goes on. Units recorded
/// as submitted by an earlier coordinator (killed, or stopped with Ctrl-C) are re-attached to, not submitted again.
/// After a cancellation the stage returns at once, leaving its jobs running (and their snapshot).
struct RemoteStage {
    let job: StageJob
    let executor: Executor
    let retry: RetryPolicy
    let runID: Int

    private struct Active {
        var unit: WorkUnit
        var job: String
        var attempts: Int
        var state = ""
    }

    private struct Waiting {
        var unit: WorkUnit
        var attempts: Int
        var notBefore: Date
    }

    func execute() -> StageOutcome {
        do { return try executeThrowing() } catch { return .failed("\(error)") }
    }

    private func executeThrowing() throws -> StageOutcome {
        let stage = job.stage, key = stage.key.hex, directory = job.directory
        let store = try Store(directory: directory)
        store.lease = job.options.lease
        try job.ensure(store)
        try store.retryFailedCells(key)
        try store.setStageStatus(key, .running)
        let start = try store.cellCounts(key)
        job.observer?(.stageStarted(stageID: stage.id, kind: stage.spec.kind, cellsTotal: start.total, cellsDone: start.done))
        func log(_ message: String) { job.observer?(.log(stageID: stage.id, message: message)) }

        var active: [Active] = []
        var waiting: [Waiting] = []
        // Re-attach to the units an earlier coordinator handed out and whose workers may still run.
        for record in try store.units(stageKey: key) where record.isActive && record.executor == executor.name {
            guard let job = record.job else { continue }
            let claimed = try store.claimCells(key, limit: record.unit.cells.count, claimer: self.job.claimer, among: record.unit.cells)
            guard claimed.count == record.unit.cells.count else { continue }
            active.append(Active(unit: record.unit, job: job, attempts: record.attempts))
            log("re-attached to unit \(record.unit.cellList) (job \(job))")
        }
        // Jobs re-attached to may be reading the snapshot: it is not replaced under them (on NFS a reader of a file
        // renamed over loses it). Else it is written before the first units go out, and kept for the retries.
        var snapshotWritten = !active.isEmpty && FileManager.default.fileExists(atPath: StoreSnapshot.url(stageKey: key, in: directory).path)
        let pending = try store.claimCells(key, limit: Int.max, claimer: job.claimer).map(\.index)
        waiting += WorkUnit.split(stageKey: key, cells: pending, parts: executor.unitsPerStage).map { Waiting(unit: $0, attempts: 0, notBefore: .distantPast) }

        var computed = 0
        while !active.isEmpty || !waiting.isEmpty {
            if job.cancellation.isCancelled {
                // Jobs keep running (a resume re-attaches); cells never handed out go back to pending.
                let unsent = waiting.flatMap(\.unit.cells)
                if !unsent.isEmpty { try store.releaseCells(key, unsent.map { SweepCell(index: $0, coordinates: []) }, claimer: job.claimer) }
                return .cancelled
            }
            // Hand out what is due.
            let due = waiting.filter { $0.notBefore <= Date() }
            if !due.isEmpty {
                for u in due { try? FileManager.default.removeItem(at: u.unit.bundleURL(in: directory)) }
                if !snapshotWritten {
                    try StoreSnapshot.write(store, stageKey: key)
                    snapshotWritten = true
                }
                let jobs = try executor.submit(due.map(\.unit), stageID: stage.id, in: directory)
                for (u, id) in zip(due, jobs) {
                    guard let id else { continue }
                    waiting.removeAll { $0.unit == u.unit }
                    try store.recordSubmission(u.unit, run: runID, executor: executor.name, job: id, attempts: u.attempts + 1)
                    active.append(Active(unit: u.unit, job: id, attempts: u.attempts + 1))
                    log("unit \(u.unit.cellList): \(executor.name) job \(id)\(u.attempts > 0 ? " (attempt \(u.attempts + 1))" : "")")
                }
            }
            // Follow what is out.
            var still: [Active] = []
            for var a in active {
                let bundleURL = a.unit.bundleURL(in: directory)
                var failure: (cells: [Int], message: String)?
                var state = FileManager.default.fileExists(atPath: bundleURL.path) ? nil : executor.state(of: a.job, in: directory)
                if case .ended? = state, FileManager.default.fileExists(atPath: bundleURL.path) { state = nil }
                switch state {
                case .active(let s, let reason)?:
                    if s != a.state { try store.updateUnit(a.unit, state: s == "PENDING" ? "pending" : "running", reason: reason) }
                    a.state = s
                    still.append(a)
                    continue
                case .ended(let s, let reason)?:
                    let tail = Self.lastLine(of: executor.log(of: a.job, unit: a.unit, in: directory))
                    failure = (a.unit.cells, "worker job \(a.job) ended \(s)\(reason.map { " (\($0))" } ?? "") without a result"
                               + (tail.map { ": \($0)" } ?? ""))
                case nil:
                    do {
                        let bundle = try ResultBundle.read(bundleURL, expected: a.unit)
                        let outcome = try store.ingest(bundle)
                        computed += outcome.stored
                        for c in bundle.results { job.observer?(.cellFinished(stageID: stage.id, cell: c.cell.index)) }
                        try store.updateUnit(a.unit, state: outcome.failures.isEmpty ? "done" : "failed",
                                             error: outcome.failures.sorted { $0.key < $1.key }.first.map(\.value), worker: bundle.worker)
                        if let first = outcome.failures.sorted(by: { $0.key < $1.key }).first {
                            failure = (outcome.failures.keys.sorted(), first.value)
                        }
                    } catch {
                        failure = (a.unit.cells, "\(error)")
                    }
                    try? FileManager.default.removeItem(at: bundleURL)
                }
                executor.finished(a.job)
                guard let failure else { continue }
                let unit = WorkUnit(stageKey: key, cells: failure.cells)
                if a.attempts >= retry.attempts {
                    try store.updateUnit(a.unit, state: "failed", error: failure.message)
                    let message = "failed \(a.attempts) time\(a.attempts == 1 ? "" : "s"); last: \(failure.message)"
                    for index in failure.cells {
                        try store.failCell(key, SweepCell(index: index, coordinates: []), error: message, claimer: job.claimer)
                    }
                    log("unit \(unit.cellList) \(message)")
                } else {
                    let delay = retry.delay(after: a.attempts)
                    try store.updateUnit(a.unit, state: "retrying", error: failure.message)
                    log("unit \(unit.cellList) attempt \(a.attempts) failed (\(failure.message)); retrying in \(Int(delay)) s")
                    waiting.append(Waiting(unit: unit, attempts: a.attempts, notBefore: Date().addingTimeInterval(delay)))
                }
            }
            active = still
            if !active.isEmpty || !waiting.isEmpty { Thread.sleep(forTimeInterval: executor.pollInterval(job.options.pollInterval)) }
        }
        StoreSnapshot.remove(stageKey: key, in: directory)
        let counts = try store.cellCounts(key)
        if counts.failed > 0 { return try StageJob.failWithFirstFailedCell(key, store: store) }
        guard counts.done == counts.total else {
            let message = "\(counts.total - counts.done) cells were not computed (\(counts))"
            try store.setStageStatus(key, .failed, error: message)
            return .failed(message)
        }
        try store.setStageStatus(key, .done)
        return .computed(cells: computed)
    }

    /// The last non-empty line a worker printed (its error), if any.
    static func lastLine(of url: URL) -> String? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init)
    }
}
