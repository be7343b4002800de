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
    public var spec: StageKindSpec { StageCatalog.spec(for: self) }
}
