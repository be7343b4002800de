import Foundation
import Synchronization

/// Limits of a run.
public struct SchedulerOptions: Sendable {
    /// Stages run side by side only while the sum of their runners' memory estimates fits (one stage always may).
    public var memoryBudget: Int
    /// Upper bound on stages running at once in this process.
    public var maxConcurrentStages: Int
    /// How often to look again when waiting for cells another process is computing.
    public var pollInterval: TimeInterval
    /// How often the run's heartbeat stamps the run and renews the leases of the cells it is computing.
    public var heartbeatInterval: TimeInterval
    /// A cell claimed by another runner whose lease has not been renewed for this long is taken over (its runner
    /// stalled, or died on another host).
    public var lease: TimeInterval
    /// Where the cells are computed: in this process (`local`), or by workers (`processes`, `slurm`), whose stages all
    /// run at once as their dependencies allow (the executor bounds the work in flight, not the memory budget).
    public var executor: Executor
    /// How a unit that fails in a worker is retried (not used by the local executor).
    public var retry: RetryPolicy

    public init(memoryBudget: Int = Int(ProcessInfo.processInfo.physicalMemory / 2), maxConcurrentStages: Int = 2,
                pollInterval: TimeInterval = 0.2, heartbeatInterval: TimeInterval = RunLiveness.heartbeatInterval,
                lease: TimeInterval = Store.defaultLease, executor: Executor = .local, retry: RetryPolicy = RetryPolicy()) {
        self.executor = executor
        self.retry = retry
        self.memoryBudget = memoryBudget
        self.maxConcurrentStages = max(1, maxConcurrentStages)
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.lease = lease
    }
}

/// The result of running a plan: every stage's outcome, in plan order.
public struct RunSummary: Sendable, CustomStringConvertible {
    public var runID: Int
    public var resultsDirectory: URL
    public var outcomes: [(stageID: String, outcome: StageOutcome)]

    public func outcome(_ id: String) -> StageOutcome? { outcomes.first { $0.stageID == id }?.outcome }

    public var failed: Bool { outcomes.contains { if case .failed = $0.outcome { return true }; if case .blocked = $0.outcome { return true }; return false } }
    public var cancelled: Bool { outcomes.contains { $0.outcome == .cancelled } }
    /// Cells computed by this run.
    public var cellsComputed: Int { outcomes.reduce(0) { if case .computed(let n) = $1.outcome { return $0 + n }; return $0 } }

    public var description: String {
        var lines = outcomes.map { "  \($0.stageID): \($0.outcome)" }
        if cancelled {
            lines.append("interrupted; finish with: reptune resume \(resultsDirectory.path)")
        } else if failed {
            lines.append("some stages failed; fix the cause and run again (finished cells are kept)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs a plan: stages in dependency order on worker threads (independent stages side by side within the
/// memory budget), each through its kind's registered runner, every cell committed on its own. A failed stage
/// stops only the stages depending on it. Several processes may run the same plan on one results directory:
/// they share the cells through claims in the database.
public struct Scheduler: Sendable {
    public var registry: StageRegistry
    public var options: SchedulerOptions
    public var cancellation: CancellationFlag
    public var observer: RunObserver?

    public init(registry: StageRegistry, options: SchedulerOptions = SchedulerOptions(),
                cancellation: CancellationFlag = CancellationFlag(), observer: RunObserver? = nil) {
        self.registry = registry
        self.options = options
        self.cancellation = cancellation
        self.observer = observer
    }

    /// Runs `plan` against the results directory `directory` (the store the plan was made with): a new run, or
    /// run `continuing` taken up again (`reptune resume`). While it runs, a heartbeat marks the run alive.
    public func run(_ plan: Plan, in directory: URL, continuing: Int? = nil) throws -> RunSummary {
        if plan.modelMissing {
            throw PlanError("the model file \(plan.manifest.model.url.path) does not exist: fetch it (the default model: `make setup`) or change `model` in the manifest")
        }
        let store = try Store(directory: directory)
        let claimer = Claimer()
        let work = plan.stages.filter { $0.action.computes }
        for s in work where registry.runner(for: s.spec.kind) == nil {
            throw PlanError("stage \(s.id): no runner is registered for kind \(s.spec.kind) (registered: \(registry.kinds.map(\.rawValue).joined(separator: ", ")))")
        }
        try store.markGoneRunsInterrupted()
        try CoordinatorLock.check(store, executor: options.executor, continuing: continuing)
        if !work.isEmpty { try options.executor.prepare(directory) { observer?(.log(stageID: "run", message: $0)) } }
        let runID: Int
        if let continuing, try store.runs().contains(where: { $0.id == continuing }) {
            try store.continueRun(continuing, claimer: claimer)
            runID = continuing
        } else {
            runID = try store.beginRun(manifest: plan.manifest, optionsJSON: CanonicalJSON.encode(.object([
                "only": .array(plan.options.only.map(JSONValue.string)), "force": .array(plan.options.force.map(JSONValue.string)),
                "engine": .int(plan.options.engineVersion),
            ])), claimer: claimer)
        }
        try store.setRunExecutor(runID, options.executor.name)
        let heartbeat = RunHeartbeat(run: runID, directory: directory, claimer: claimer, interval: options.heartbeatInterval)
        defer { heartbeat.stop() }
        for s in plan.stages where s.action != .skipped { try ensureStage(s, store: store) }
        try store.recordRunStages(runID, stages: plan.stages.filter { $0.action != .skipped }.map { ($0.id, $0.key.hex) })
        for s in plan.stages where s.action.discardsStored {
            try store.resetStageUnlessBeingRecomputed(s.key.hex, by: runID)
        }
        let byID = Dictionary(plan.stages.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        var outcomes: [String: StageOutcome] = [:]
        for s in plan.stages {
            switch s.action {
            case .cached: outcomes[s.id] = .cached
            case .skipped: outcomes[s.id] = .skipped
            default: continue
            }
            observer?(.stageFinished(stageID: s.id, outcome: outcomes[s.id]!))
        }

        let finished = Completions()
        var waiting = work
        var running: [String: Int] = [:]   // stage id → memory estimate
        while !waiting.isEmpty || !running.isEmpty {
            // Settle stages that cannot run.
            var stillWaiting: [PlannedStage] = []
            for s in waiting {
                if cancellation.isCancelled {
                    outcomes[s.id] = .cancelled
                } else if let bad = s.spec.dependencies.first(where: { dep in
                    switch outcomes[dep] { case .failed?, .blocked?, .cancelled?: return true; default: return false }
                }) {
                    outcomes[s.id] = outcomes[bad] == .cancelled ? .cancelled : .blocked(by: bad)
                } else {
                    stillWaiting.append(s)
                    continue
                }
                observer?(.stageFinished(stageID: s.id, outcome: outcomes[s.id]!))
            }
            waiting = stillWaiting
            // Start what is ready and fits.
            let remote = !options.executor.isLocal
            for s in waiting {
                guard remote || running.count < options.maxConcurrentStages else { break }
                let ready = s.spec.dependencies.allSatisfy { dep in
                    switch outcomes[dep] { case .cached?, .computed?, .skipped?: return true; default: return false }
                }
                guard ready, let runner = registry.runner(for: s.spec.kind) else { continue }
                let memory = max(0, runner.memoryEstimate(s.spec))
                let used = running.values.reduce(0, +)
                guard remote || running.isEmpty || used + memory <= options.memoryBudget else { continue }
                running[s.id] = memory
                waiting.removeAll { $0.id == s.id }
                let inputs = s.spec.inputs.map { slot in
                    (slot.slot, slot.stages.compactMap { id in byID[id].map { ($0.id, $0.spec.kind, $0.key.hex) } })
                }
                let job = StageJob(stage: s, inputs: inputs, model: plan.manifest.model, datasets: plan.manifest.datasets,
                                   directory: directory, runner: runner, claimer: claimer, options: options,
                                   cancellation: cancellation, observer: observer)
                let stage = remote ? RemoteStage(job: job, executor: options.executor, retry: options.retry, runID: runID) : nil
                let thread = Thread { finished.post(s.id, stage?.execute() ?? job.execute()) }
                thread.stackSize = 16 << 20
                thread.start()
            }
            if running.isEmpty {
                if waiting.isEmpty { break }
                // Nothing can start (should not happen with a valid plan): report rather than hang.
                for s in waiting { outcomes[s.id] = .failed("could not be scheduled") }
                break
            }
            let (id, outcome) = finished.wait()
            running[id] = nil
            outcomes[id] = outcome
            observer?(.stageFinished(stageID: id, outcome: outcome))
        }

        let summary = RunSummary(runID: runID, resultsDirectory: directory,
                                 outcomes: plan.stages.map { ($0.id, outcomes[$0.id] ?? .cancelled) })
        try store.finishRun(runID, status: summary.cancelled ? "interrupted" : summary.failed ? "failed" : "done")
        return summary
    }

    func ensureStage(_ s: PlannedStage, store: Store) throws {
        try store.ensureStage(key: s.key.hex, stageID: s.id, kind: s.spec.kind, paramsJSON: CanonicalJSON.encode(s.spec.params.json),
                              keyJSON: s.key.material, cells: s.spec.cells)
    }
}

/// Finished stages, handed from worker threads to the scheduling loop.
final class Completions: Sendable {
    private let queue = Mutex<[(String, StageOutcome)]>([])
    private let signal = DispatchSemaphore(value: 0)

    func post(_ id: String, _ outcome: StageOutcome) {
        queue.withLock { $0.append((id, outcome)) }
        signal.signal()
    }

    func wait() -> (String, StageOutcome) {
        while true {
            signal.wait()
            if let next = queue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return next }
        }
    }
}

/// One stage's execution on a worker thread, with its own store connection.
struct StageJob: Sendable {
    let stage: PlannedStage
    let inputs: [(String, [(String, StageKind, String)])]
    let model: ModelRef
    let datasets: [DatasetRef]
    let directory: URL
    let runner: StageRunner
    let claimer: Claimer
    let options: SchedulerOptions
    let cancellation: CancellationFlag
    let observer: RunObserver?

    /// Marks the stage failed with its first failed cell's error, and says so.
    static func failWithFirstFailedCell(_ key: String, store: Store) throws -> StageOutcome {
        let cell = try store.cells(key).first { $0.status == .failed }
        let message = cell.map { "cell #\($0.index) \(CanonicalJSON.encode($0.coordinates)): \($0.error ?? "failed")" } ?? "a cell failed"
        try store.setStageStatus(key, .failed, error: message)
        return .failed(message)
    }

    /// Creates the stage and its cells in `store` unless they exist.
    func ensure(_ store: Store) throws {
        try store.ensureStage(key: stage.key.hex, stageID: stage.id, kind: stage.spec.kind, paramsJSON: CanonicalJSON.encode(stage.spec.params.json),
                              keyJSON: stage.key.material, cells: stage.spec.cells)
    }

    func execute() -> StageOutcome {
        do {
            return try executeThrowing()
        } catch {
            return .failed("\(error)")
        }
    }

    private func executeThrowing() throws -> StageOutcome {
        let store = try Store(directory: directory)
        store.lease = options.lease
        let key = stage.key.hex
        try ensure(store)
        try store.retryFailedCells(key)
        try store.setStageStatus(key, .running)
        let start = try store.cellCounts(key)
        observer?(.stageStarted(stageID: stage.id, kind: stage.spec.kind, cellsTotal: start.total, cellsDone: start.done))

        var inputStages: [String: [InputStage]] = [:]
        for (slot, sources) in inputs {
            inputStages[slot] = try sources.map { InputStage(stageID: $0.0, kind: $0.1, key: $0.2, cells: try store.cells($0.2)) }
        }
        var computed = 0
        while true {
            let counts = try store.cellCounts(key)
            if counts.failed > 0 { return try Self.failWithFirstFailedCell(key, store: store) }
            if counts.done == counts.total {
                try store.setStageStatus(key, .done)
                return .computed(cells: computed)
            }
            if cancellation.isCancelled {
                if counts.running == 0 { try store.setStageStatus(key, .pending) }
                return .cancelled
            }
            if counts.pending > 0 {
                let context = StageContext(stage: stage.spec, key: key, model: model, datasets: datasets, inputs: inputStages,
                                           store: store, cancellation: cancellation, claimer: claimer, observer: observer,
                                           contentDigests: stage.contentDigests, declaredOutputs: runner.outputs)
                var failure: Error?
                do {
                    try runner.run(context)
                } catch {
                    failure = error
                }
                let claimedNothing = context.claimed == 0
                let failedCell = context.inFlight.first
                try context.settleInFlight(error: failure)
                computed += context.committed
                if let failure, !(failure is StageCancelled) {
                    let message = failedCell.map { "cell #\($0.index) \($0.coordinatesJSON): \(failure)" } ?? "\(failure)"
                    try store.setStageStatus(key, .failed, error: message)
                    return .failed(message)
                }
                if failure == nil, claimedNothing, !cancellation.isCancelled, try store.cellCounts(key).pending > 0 {
                    let message = "the \(stage.spec.kind) runner returned without claiming any of \(counts.pending) pending cells"
                    try store.setStageStatus(key, .failed, error: message)
                    return .failed(message)
                }
            } else {
                // Other processes hold the remaining cells: wait for them (or for their claims to go stale).
                Thread.sleep(forTimeInterval: options.pollInterval)
                try store.recoverStaleClaims(key, claimer: claimer)
            }
        }
    }
}

/// Beats for a run while it executes: every `interval` seconds it stamps the run's `heartbeat_at` and renews the
/// leases of the cells this scheduler is computing (`Store.renewLeases`), on its own thread and store connection. A
/// run whose process dies or stalls stops beating: it reads as interrupted, and once its leases run out
/// (`SchedulerOptions.lease`) another runner takes its cells over; a late commit of the stalled runner stores nothing.
final class RunHeartbeat: Sendable {
    private let stopped = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init(run: Int, directory: URL, claimer: Claimer, interval: TimeInterval) {
        let (stopped, done) = (self.stopped, self.done)
        let thread = Thread {
            let store = try? Store(directory: directory)
            while stopped.wait(timeout: .now() + interval) == .timedOut {
                try? store?.heartbeat(run)
                try? store?.renewLeases(claimer)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops beating (and waits until the thread has let go of its store connection).
    func stop() {
        stopped.signal()
        done.wait()
    }
}
