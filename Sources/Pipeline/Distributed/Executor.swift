import Foundation
import Synchronization

/// Where a run's units of work are computed. `local`: in the coordinator's process (today's scheduler, stages on
/// threads); `processes`: `reptune worker` processes on this machine, at most `workers` at once; `slurm`: `reptune
/// worker` jobs submitted with `sbatch` (a job array per stage's batch of units). Every executor but `local` speaks the
/// one protocol of `WorkUnit` → `ResultBundle` → `Store.ingest`, driven by `RemoteStage`.
public enum Executor: Sendable {
    case local
    case processes(WorkerInvocation, slots: WorkerSlots)
    case slurm(WorkerInvocation, SlurmOptions)

    /// Worker processes on this machine, at most `workers` at once.
    public static func processes(_ worker: WorkerInvocation, workers: Int) -> Executor {
        .processes(worker, slots: WorkerSlots(max(1, workers)))
    }

    public var name: String {
        switch self {
        case .local: return "local"
        case .processes: return "processes"
        case .slurm: return "slurm"
        }
    }

    public var isLocal: Bool { if case .local = self { return true }; return false }

    /// How many units a stage's pending cells are split into at most.
    var unitsPerStage: Int {
        switch self {
        case .local: return 1
        case .processes(_, let slots): return slots.capacity
        case .slurm(_, let options): return options.unitsPerStage
        }
    }

    /// How long a coordinator waits between two looks at its units: Slurm is asked at most once a second.
    func pollInterval(_ base: TimeInterval) -> TimeInterval {
        if case .slurm = self { return max(base, 1) }
        return base
    }

    /// Checks, before anything is submitted, that workers can run and see the results directory (Slurm: `sbatch` on
    /// PATH, the partition exists, and a probe job sees a file the coordinator wrote there).
    func prepare(_ directory: URL, log: (String) -> Void) throws {
        if case .slurm(let worker, let options) = self { try SlurmQueue.probe(directory, worker: worker, options: options, log: log) }
    }

    /// Hands `units` (all of one stage) to workers; returns each unit's job name (in order), or nil for a unit that
    /// must wait for a free worker (`processes`).
    func submit(_ units: [WorkUnit], stageID: String, in directory: URL) throws -> [String?] {
        switch self {
        case .local:
            return units.map { _ in nil }
        case .processes(let worker, let slots):
            return try units.map { unit in
                guard slots.acquire() else { return nil }
                do { return try LocalWorkers.start(unit, worker: worker, in: directory) } catch { slots.release(); throw error }
            }
        case .slurm(let worker, let options):
            return try SlurmQueue.submit(units, stageID: stageID, worker: worker, options: options, in: directory).map { $0 }
        }
    }

    /// Where the worker of `job` is now.
    func state(of job: String, in directory: URL) -> WorkerJobState {
        switch self {
        case .local: return .ended(state: "UNKNOWN", reason: nil)
        case .processes: return LocalWorkers.state(of: job)
        case .slurm: return SlurmQueue.state(of: job)
        }
    }

    /// The job has ended and its result was taken: free its worker slot.
    func finished(_ job: String) {
        if case .processes(_, let slots) = self, job.hasPrefix("pid:") { slots.release() }
    }

    /// The file the worker of `job` writes its output to (for the error of a worker that ended without a bundle).
    func log(of job: String, unit: WorkUnit, in directory: URL) -> URL {
        switch self {
        case .slurm: return directory.appendingPathComponent("logs/slurm-\(job).log")
        default: return LocalWorkers.log(unit, in: directory)
        }
    }
}

/// How a worker is started: the `reptune` executable (the coordinator's own), the options it passes on, and an optional
/// wrapper program the worker runs under.
public struct WorkerInvocation: Sendable {
    public var executable: String
    /// `--datasets` of the coordinator, so that workers resolve dataset names alike.
    public var datasets: String?
    /// `--worker-wrapper`: an executable started as `WRAPPER REPTUNE worker …` instead of `REPTUNE worker …` (a script
    /// that enters a container, loads modules or sets up the node's environment, then `exec "$@"`). Like the `reptune`
    /// executable, it must exist at the same path on the nodes.
    public var wrapper: String?

    public init(executable: String, datasets: String? = nil, wrapper: String? = nil) {
        self.executable = executable
        self.datasets = datasets
        self.wrapper = wrapper
    }

    /// The command line of `reptune ARGUMENTS` as this invocation runs it (under the wrapper, if any).
    func command(_ arguments: [String]) -> [String] {
        (wrapper.map { [$0] } ?? []) + [executable] + arguments
    }

    func arguments(_ directory: URL, unit: String, array: Bool = false) -> [String] {
        ["worker", directory.path, unit] + (array ? ["--array"] : []) + (datasets.map { ["--datasets", $0] } ?? [])
    }
}

/// Where a worker's job is.
enum WorkerJobState: Sendable, Hashable {
    /// Waiting or running, with the scheduler's state and reason (`PENDING`, `Resources`).
    case active(state: String, reason: String?)
    /// Gone: its final state (`COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`, `OUT_OF_MEMORY`, …) and reason.
    case ended(state: String, reason: String?)
}

/// Free worker slots of the processes executor, shared by every stage of the run.
public final class WorkerSlots: Sendable {
    let capacity: Int
    private let used = Mutex(0)

    init(_ capacity: Int) { self.capacity = capacity }

    func acquire() -> Bool { used.withLock { if $0 < capacity { $0 += 1; return true }; return false } }
    func release() { used.withLock { $0 = max(0, $0 - 1) } }
}

/// How units that fail are retried: up to `attempts` times in all, waiting `backoff` seconds before the second
/// attempt and twice as long before each next one.
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var backoff: TimeInterval

    public init(attempts: Int = 3, backoff: TimeInterval = 2) {
        self.attempts = max(1, attempts)
        self.backoff = max(0, backoff)
    }

    func delay(after attempt: Int) -> TimeInterval { backoff * pow(2, Double(max(0, attempt - 1))) }
}
