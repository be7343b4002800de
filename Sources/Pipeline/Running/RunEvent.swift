/// What happened to one stage in a run.
public enum StageOutcome: Sendable, Hashable, CustomStringConvertible {
    /// Reused from the store; nothing computed.
    case cached
    /// Finished; `cells` of them computed by this process (others may have been computed earlier or elsewhere).
    case computed(cells: Int)
    /// Failed with this error (stored with the stage).
    case failed(String)
    /// Not run because a stage it depends on failed.
    case blocked(by: String)
    /// Not selected by `--only`.
    case skipped
    /// Stopped by a cancellation request; resumable.
    case cancelled

    public var description: String {
        switch self {
        case .cached: return "cached"
        case .computed(let n): return "done (\(n) cell\(n == 1 ? "" : "s") computed)"
        case .failed(let e): return "FAILED: \(e)"
        case .blocked(let by): return "not run: depends on failed stage \(by)"
        case .skipped: return "skipped"
        case .cancelled: return "interrupted"
        }
    }
}

/// Progress of a run, reported to an observer (the CLI's progress display, a log, a test).
public enum RunEvent: Sendable {
    case stageStarted(stageID: String, kind: StageKind, cellsTotal: Int, cellsDone: Int)
    case cellFinished(stageID: String, cell: Int)
    case stageFinished(stageID: String, outcome: StageOutcome)
    case log(stageID: String, message: String)
    /// Progress inside the cell being computed (tuning steps, prompts of an evaluation): `done` of `total` units
    /// of `label` (e.g. "step", "prompt"), with an optional short status (losses).
    case progress(stageID: String, label: String, done: Int, total: Int, status: String?)
}

public typealias RunObserver = @Sendable (RunEvent) -> Void
