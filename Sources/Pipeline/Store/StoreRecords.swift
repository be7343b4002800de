import Foundation

/// Where a stage or a cell is in its life: waiting, being computed, finished, or failed with a stored error.
public enum WorkStatus: String, Sendable, Hashable, CaseIterable {
    case pending, running, done, failed
}

/// A file beside the database holding a large array (activations, vectors, weights), named by its sha256.
public struct ArtifactRef: Sendable, Hashable, CustomStringConvertible {
    public var sha256: String
    public var bytes: Int
    /// Path relative to the results directory (`artifacts/ab/abcdef…`).
    public var path: String

    public init(sha256: String, bytes: Int, path: String) {
        self.sha256 = sha256
        self.bytes = bytes
        self.path = path
    }

    public var description: String { "\(path) (\(bytes) bytes)" }
}

/// One generated answer stored with a cell: the dataset item, the prompt, the text, and its score if scored.
public struct Generation: Sendable, Hashable {
    public var item: Int
    public var prompt: String
    public var output: String
    public var score: Double?
    public var meta: JSONValue?

    public init(item: Int, prompt: String, output: String, score: Double? = nil, meta: JSONValue? = nil) {
        self.item = item
        self.prompt = prompt
        self.output = output
        self.score = score
        self.meta = meta
    }
}

/// What a stage runner produces for one sweep cell; committed to the store in one transaction.
public struct CellResult: Sendable, Hashable {
    /// Named numbers (accuracy, loss, perplexity, …); queryable in `v_metrics`.
    public var metrics: [String: Double]
    /// Small structured outputs (a JSON object); large arrays go in `artifacts`.
    public var outputs: JSONValue
    /// Files written with `Store.writeArtifact`, by name.
    public var artifacts: [String: ArtifactRef]
    public var generations: [Generation]

    public init(metrics: [String: Double] = [:], outputs: JSONValue = .object([]), artifacts: [String: ArtifactRef] = [:],
                generations: [Generation] = []) {
        self.metrics = metrics
        self.outputs = outputs
        self.artifacts = artifacts
        self.generations = generations
    }

    /// Canonical JSON of the metrics (NaN and infinities as null).
    public var metricsJSON: String {
        CanonicalJSON.encode(.object(metrics.map { JSONMember(key: $0.key, value: $0.value.isFinite ? .double($0.value) : .null) }))
    }
}

/// Who holds a claim on cells: a unique token per scheduler, plus the process id and host so that claims of
/// processes that died can be recovered.
public struct Claimer: Sendable, Hashable {
    public var token: String
    public var pid: Int32
    public var host: String

    public init(token: String = UUID().uuidString, pid: Int32 = ProcessInfo.processInfo.processIdentifier,
                host: String = ProcessInfo.processInfo.hostName) {
        self.token = token
        self.pid = pid
        self.host = host
    }
}

/// A stored cell with everything it produced.
public struct CellRecord: Sendable, Hashable {
    public var stageKey: String
    public var index: Int
    public var coordinates: JSONValue
    public var status: WorkStatus
    public var metrics: [String: Double]
    public var outputs: JSONValue
    public var artifacts: [String: ArtifactRef]
    public var error: String?
}

/// How many of a stage's cells are in each state.
public struct CellCounts: Sendable, Hashable, CustomStringConvertible {
    public var pending = 0, running = 0, done = 0, failed = 0

    public init(pending: Int = 0, running: Int = 0, done: Int = 0, failed: Int = 0) {
        self.pending = pending
        self.running = running
        self.done = done
        self.failed = failed
    }

    public var total: Int { pending + running + done + failed }
    public var description: String { "\(done)/\(total) done, \(running) running, \(failed) failed" }
}

/// A stored stage: its key, which manifest stage created it, status and timings.
public struct StageRecord: Sendable, Hashable {
    public var key: String
    public var stageID: String
    public var kind: String
    public var status: WorkStatus
    public var cellsTotal: Int
    public var startedAt: Double?
    public var finishedAt: Double?
    public var error: String?
}

/// A stored `reptune run`: the manifest it ran (text and location) and how it ended.
public struct RunRecord: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var manifestPath: String?
    public var baseDirectory: String
    public var manifestText: String
    public var optionsJSON: String
    public var status: String
    public var startedAt: Double
    public var finishedAt: Double?
    /// The process that last ran it (nil in stores older than schema 2 when only the pid was kept).
    public var process: ProcessIdentity?
    /// When that process last said it was alive.
    public var heartbeatAt: Double?
    /// How many times `reptune resume` continued it.
    public var resumes: Int = 0

    /// The status to show: `interrupted` for a run stored as running whose process is gone (`RunLiveness`).
    public var liveStatus: String { RunLiveness.status(of: self) }
}
