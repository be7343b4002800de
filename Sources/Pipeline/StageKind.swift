/// What a pipeline stage does; the raw value is the manifest spelling.
public enum StageKind: String, Sendable, CaseIterable, Hashable, Comparable {
    case collectActivations = "collect_activations"
    case vectors
    case steeringSweep = "steering_sweep"
    case tune
    case evaluate
    case judge
    case perplexity
    case report

    public static func < (a: StageKind, b: StageKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// One-line description used in the generated docs.
    public var summary: String {
        switch self {
        case .collectActivations: "Run prompts through the model and store residual-stream activations per layer."
        case .vectors: "Derive steering vectors from collected activations."
        case .steeringSweep: "Generate with steering vectors added over a grid of layers and multipliers."
        case .tune: "Representation-tune the model towards (or away from) a vector."
        case .evaluate: "Score a model or steered variant on an evaluation task."
        case .judge: "Grade generated outputs with a local or OpenAI-compatible judge model."
        case .perplexity: "Measure sliding-window perplexity on a text dataset."
        case .report: "Collect results of earlier stages into report files."
        }
    }
}
