import Foundation
import ModelFormats

/// A finished stage as seen by the stages reading it: its id, kind, key and stored cells (metrics, outputs,
/// artifact references; read artifact bytes with `StageContext.readArtifact`).
public struct InputStage: Sendable {
    public var stageID: String
    public var kind: StageKind
    public var key: String
    public var cells: [CellRecord]
}

/// Everything a stage runner gets: the resolved stage, the model and datasets, its inputs' stored results, the
/// store (to write artifacts), a source of claimed cells and a sink committing each cell in its own transaction.
/// Used on one thread.
public final class StageContext {
    public let stage: StageSpec
    public let key: String
    public let model: ModelRef
    public let datasets: [DatasetRef]
    /// Slot → the stages feeding it, in manifest order.
    public let inputs: [String: [InputStage]]
    public let store: Store
    public let cancellation: CancellationFlag
    let claimer: Claimer
    let observer: RunObserver?
    /// The outputs the runner's kind declares (nil for a runner standing in for a kind in tests).
    let declaredOutputs: StageOutputs?
    /// Cells claimed and not yet committed.
    private(set) var inFlight: [SweepCell] = []
    /// Cells this context committed.
    public private(set) var committed = 0
    /// Cells this context claimed.
    public private(set) var claimed = 0

    /// The digest each file or directory in the stage's key had when the run was planned (`PlannedStage`).
    let contentDigests: [String: String]
    /// Set when the context runs one unit of work in a worker (`UnitWorker`): cells come from the unit, not from
    /// claims in the store, and results are collected for the unit's bundle instead of committed (nil: the store).
    let unit: UnitLedger?

    init(stage: StageSpec, key: String, model: ModelRef, datasets: [DatasetRef], inputs: [String: [InputStage]], store: Store,
         cancellation: CancellationFlag, claimer: Claimer, observer: RunObserver?, contentDigests: [String: String] = [:],
         declaredOutputs: StageOutputs? = nil, unit: UnitLedger? = nil) {
        self.unit = unit
        self.declaredOutputs = declaredOutputs
        self.contentDigests = contentDigests
        self.stage = stage
        self.key = key
        self.model = model
        self.datasets = datasets
        self.inputs = inputs
        self.store = store
        self.cancellation = cancellation
        self.claimer = claimer
        self.observer = observer
    }

    public var params: StageParams { stage.params }
    public var isCancelled: Bool { cancellation.isCancelled }

    public func checkCancellation() throws(StageCancelled) {
        if isCancelled { throw StageCancelled() }
    }

    /// The single stage feeding `slot` (the first if it takes several).
    public func input(_ slot: String) -> InputStage? { inputs[slot]?.first }

    /// The dataset and split a dataset parameter names.
    public func dataset(_ param: String) -> (dataset: DatasetRef, split: DatasetSplit?)? {
        guard let text = params[param]?.stringValue else { return nil }
        let use = DatasetUse(parsing: text)
        guard let ds = datasets.first(where: { $0.name == use.dataset }) else { return nil }
        return (ds, use.split.flatMap { ds.split($0) })
    }

    /// Claims up to `max` pending cells (lowest index first, only among `indices` when given); [] when none are
    /// left or after cancellation.
    public func nextCells(_ max: Int = 1, among indices: [Int]? = nil) throws -> [SweepCell] {
        guard !isCancelled else { return [] }
        let cells = try unit?.take(max, among: indices) ?? store.claimCells(key, limit: max, claimer: claimer, among: indices)
        inFlight += cells
        claimed += cells.count
        return cells
    }

    /// Stores one finished cell (one transaction). A declared runner's cell must hold only the metrics and artifacts
    /// its kind declares (`StageOutputs`).
    public func commit(_ cell: SweepCell, _ result: CellResult) throws {
        if let undeclared = declaredOutputs?.undeclared(in: result) {
            throw StageOutputsError("stage \(stage.id): the \(stage.kind) runner stored \(undeclared), which the kind's declaration does not list")
        }
        let stored = try unit.map { $0.finish(cell, result) } ?? store.commitCell(key, cell, result, claimer: claimer)
        inFlight.removeAll { $0.index == cell.index }
        if stored {
            committed += 1
            observer?(.cellFinished(stageID: stage.id, cell: cell.index))
        }
    }

    /// The bytes of a file the stage's key covers (a dataset, a split file), checked against the digest the key was
    /// computed from: a file edited since the run was planned fails the cell (`ContentChangedError`) instead of
    /// being stored under the old key. Files outside the key are read as they are. Devices and FIFOs are refused,
    /// and files over `maxBytes` are refused before they are read.
    public func readKeyed(_ url: URL, what: String, maxBytes: Int = InputFile.Limit.dataset) throws -> Data {
        let data = try InputFile.read(url, what: what, maxBytes: maxBytes)
        try checkUnchanged(url, what: what, found: ContentDigest.of(data))
        return data
    }

    /// Checks a directory (or any file read by another reader) the stage's key covers against the digest the key
    /// was computed from, by hashing it again now that it has been read.
    public func verifyKeyed(_ url: URL, what: String) throws {
        guard contentDigests[PlanDigests.key(url)] != nil else { return }
        try checkUnchanged(url, what: what, found: ContentDigest.of(url, what: what))
    }

    /// Checks a model file (or directory) the stage's key covers after it has been loaded: unchanged when the
    /// store's cached digest still holds for it (same device, inode, size and times as when it was hashed), else
    /// hashed again. A large model is thus not read twice, and an edit since planning still fails the cell.
    public func verifyModel(_ url: URL, what: String) throws {
        guard let expected = contentDigests[PlanDigests.key(url)] else { return }
        if let cached = try? store.cachedDigest(of: url), cached == expected { return }
        try checkUnchanged(url, what: what, found: ContentDigest.of(url, what: what))
    }

    private func checkUnchanged(_ url: URL, what: String, found: String) throws {
        guard let expected = contentDigests[PlanDigests.key(url)], expected != found else { return }
        try? store.forgetDigest(of: url)
        throw ContentChangedError(what: what, path: url.path, expected: expected, found: found)
    }

    /// Stores `cell`'s error and lets it go (the runner goes on with other cells; the stage fails at the end).
    public func fail(_ cell: SweepCell, _ error: Error) throws {
        if let unit { unit.fail(cell, "\(error)") } else { try store.failCell(key, cell, error: "\(error)", claimer: claimer) }
        inFlight.removeAll { $0.index == cell.index }
    }

    /// Writes a large array beside the database (see `Store.writeArtifact`).
    public func writeArtifact(_ data: Data) throws -> ArtifactRef { try store.writeArtifact(data) }
    /// Writes a large artifact through `produce`, which fills the file at the URL it gets (see `Store.writeArtifact`).
    public func writeArtifact(_ produce: (URL) throws -> Void) throws -> ArtifactRef { try store.writeArtifact(produce) }
    public func readArtifact(_ ref: ArtifactRef) throws -> Data { try store.readArtifact(ref) }

    public func log(_ message: String) { observer?(.log(stageID: stage.id, message: message)) }

    /// Reports progress inside the current cell: `done` of `total` `label`s (e.g. tuning steps), with a status.
    public func progress(_ label: String, done: Int, total: Int, status: String? = nil) {
        observer?(.progress(stageID: stage.id, label: label, done: done, total: total, status: status))
    }

    /// Marks the cells still in flight failed with `error` (or releases them after cancellation).
    func settleInFlight(error: Error?) throws {
        guard !inFlight.isEmpty else { return }
        if let unit {
            if let error, !(error is StageCancelled) { for cell in inFlight { unit.fail(cell, "\(error)") } }
        } else if let error, !(error is StageCancelled) {
            for cell in inFlight { try store.failCell(key, cell, error: "\(error)", claimer: claimer) }
        } else {
            try store.releaseCells(key, inFlight, claimer: claimer)
        }
        inFlight = []
    }
}

extension StageContext {
    /// The stage's parameters as its kind's typed `Params` (decoded from the resolved parameters; see
    /// `StageParamsDecoder`).
    public func decodeParams<P: Decodable>(_ type: P.Type) throws -> P {
        try StageParamsDecoder.decode(type, from: params, spec: stage.kind.spec)
    }
}
