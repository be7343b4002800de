/// How one stage kind is computed. The science lives in other modules; they register a runner per kind.
///
/// Contract: `run` is called on a worker thread with a `StageContext`. It loops `context.nextCells(_:)` (which
/// claims pending cells in the store, so several processes can share a sweep) until it returns no cells, and
/// calls `context.commit(_:_:)` once per cell (one transaction each). It may hold state across cells (a loaded
/// model, activations reused across multipliers). It checks `context.isCancelled` between cells (claiming stops
/// by itself after cancellation). It throws to fail the stage: the cells it claimed but did not commit are
/// marked failed with the error (or returned to pending when it throws `StageCancelled`). The scheduler calls
/// `run` again if pending cells remain (e.g. cells recovered from a dead process).
public struct StageRunner: Sendable {
    /// Bytes the stage needs at peak (model copies, activations); stages run side by side only while the sum of
    /// their estimates fits the scheduler's memory budget.
    public var memoryEstimate: @Sendable (StageSpec) -> Int
    public var run: @Sendable (StageContext) throws -> Void
    /// The outputs its kind declares, when it is a declared runner (`StageDeclaration.runner`): every cell it commits
    /// is checked against them. Runners made in tests to stand in for a kind are not checked.
    public var outputs: StageOutputs?

    public init(memoryEstimate: @escaping @Sendable (StageSpec) -> Int = { _ in 0 },
                run: @escaping @Sendable (StageContext) throws -> Void) {
        self.memoryEstimate = memoryEstimate
        self.run = run
    }

    /// A runner computing each cell independently: `prepare` runs once per invocation (load what every cell
    /// needs), then `cell` turns each claimed cell into its result. A cell whose numbers overflow
    /// (`NonFiniteError`) fails alone: the other cells are still computed, and the stage then fails naming it.
    public static func perCell<State>(memoryEstimate: @escaping @Sendable (StageSpec) -> Int = { _ in 0 },
                                      prepare: @escaping @Sendable (StageContext) throws -> State,
                                      cell: @escaping @Sendable (StageContext, inout State, SweepCell) throws -> CellResult) -> StageRunner {
        StageRunner(memoryEstimate: memoryEstimate) { context in
            var state = try prepare(context)
            while let next = try context.nextCells(1).first {
                do {
                    try context.commit(next, try cell(context, &state, next))
                } catch let error as NonFiniteError {
                    try context.fail(next, error)
                }
            }
        }
    }

    public static func perCell(memoryEstimate: @escaping @Sendable (StageSpec) -> Int = { _ in 0 },
                               cell: @escaping @Sendable (StageContext, SweepCell) throws -> CellResult) -> StageRunner {
        perCell(memoryEstimate: memoryEstimate, prepare: { _ in () }, cell: { context, _, c in try cell(context, c) })
    }
}

/// Stage kind → runner. `standard` holds every declared kind's runner; tests register fakes.
public struct StageRegistry: Sendable {
    private var runners: [StageKind: StageRunner] = [:]

    public init() {}

    public mutating func register(_ kind: StageKind, _ runner: StageRunner) { runners[kind] = runner }
    public func runner(for kind: StageKind) -> StageRunner? { runners[kind] }
    public var kinds: [StageKind] { StageKind.allCases.filter { runners[$0] != nil } }
}
