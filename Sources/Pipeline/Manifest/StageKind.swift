/// The kinds of stage a manifest may declare. Each has a row in `StageCatalog` (parameters, inputs) and, to run,
/// a runner registered in a `StageRegistry`.
public enum StageKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case collectActivations = "collect_activations"
    case vectors
    case steeringSweep = "steering_sweep"
    case tune
    case evaluate
    case judge
    case perplexity
    case report

    public var description: String { rawValue }

    /// Whether a stage of this kind reads the artifact files of its inputs (activations, vectors, tuned weights);
    /// judges read stored generations and reports stored numbers only.
    public var readsInputArtifacts: Bool { self != .judge && self != .report }
    public var spec: StageKindSpec { StageCatalog.spec(for: self) }
}
