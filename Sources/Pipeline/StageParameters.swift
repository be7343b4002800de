/// The single declarative table of stage parameters and inputs; the decoder, the docs and the JSON Schema all read it.
public enum StageParameters {
    /// Parameters accepted by each stage kind, in documentation order.
    public static let table: [StageKind: [ParameterSpec]] = [
        .collectActivations: [
            ParameterSpec("dataset", .dataset, required: true, doc: "Dataset whose prompts are run."),
            ParameterSpec("layers", .intGrid, doc: "Layers to record; all layers when absent."),
            ParameterSpec("positions", .positions, default: "last", doc: "Token positions to record: \"last\" or offsets from the end."),
            ParameterSpec("prompt_format", .enumeration(["paired", "unpaired"]), default: "paired", doc: "Whether prompts come as positive/negative pairs."),
            ParameterSpec("batch_size", .int, default: 8, doc: "Prompts per forward pass."),
        ],
        .vectors: [
            ParameterSpec("method", .enumeration(["mean_diff", "pca"]), required: true, doc: "How vectors are derived from activations."),
            ParameterSpec("component", .int, default: 1, doc: "Principal component to keep (pca only), 1-based."),
            ParameterSpec("on", .enumeration(["raw", "differences"]), default: "differences", doc: "Run pca on raw activations or on pair differences."),
        ],
        .steeringSweep: [
            ParameterSpec("dataset", .dataset, required: true, doc: "Dataset of prompts to generate from."),
            ParameterSpec("layers", .intGrid, required: true, doc: "Layers to steer; one sweep cell per layer."),
            ParameterSpec("multipliers", .grid, required: true, doc: "Vector multipliers; one sweep cell per value."),
            ParameterSpec("zero_out", .bool, default: false, doc: "Project the direction out instead of adding it."),
            ParameterSpec("max_new_tokens", .int, default: 24, doc: "Tokens generated per prompt."),
            ParameterSpec("positions", .enumeration(["all", "prompt", "generated"]), default: "all", doc: "Positions the vector is applied at."),
        ],
        .tune: [
            ParameterSpec("kind", .enumeration(["truth", "lie", "honesty", "dishonesty", "tune_out", "soft_target"]), required: true, doc: "Tuning objective."),
            ParameterSpec("layers", .intGrid, required: true, doc: "Layers whose representations are tuned."),
            ParameterSpec("lr_attention", .number, default: 1e-5, doc: "Learning rate of attention weights."),
            ParameterSpec("lr_other", .number, default: 1e-6, doc: "Learning rate of all other weights."),
            ParameterSpec("batch_size", .int, default: 4, doc: "Examples per optimiser step."),
            ParameterSpec("epochs", .int, default: 3, doc: "Passes over the training data."),
            ParameterSpec("warmup_steps", .int, default: 10, doc: "Linear learning-rate warm-up steps."),
            ParameterSpec("routing", .enumeration(["as-run", "as-intended"]), default: "as-run", doc: "Gradient routing variant."),
            ParameterSpec("seed", .int, default: 42, doc: "Random seed for shuffling and initialisation."),
            ParameterSpec("patience", .int, default: 10, doc: "Evaluations without improvement before early stopping."),
            ParameterSpec("min_steps", .int, default: 80, doc: "Steps before early stopping may trigger."),
        ],
        .evaluate: [
            ParameterSpec("task", .enumeration(["facts", "tqa", "ab_questions", "open_ended"]), required: true, doc: "Evaluation task."),
            ParameterSpec("dataset", .dataset, required: true, doc: "Dataset of evaluation items."),
            ParameterSpec("max_new_tokens", .int, default: 24, doc: "Tokens generated per item."),
            ParameterSpec("variant", .object, doc: "Steering variant applied while evaluating (free-form)."),
        ],
        .judge: [
            ParameterSpec("backend", .enumeration(["local", "openai"]), required: true, doc: "Judge backend."),
            ParameterSpec("url", .string, doc: "Base URL of an OpenAI-compatible server."),
            ParameterSpec("model", .string, doc: "Judge model name."),
            ParameterSpec("key_env", .string, doc: "Environment variable holding the API key."),
        ],
        .perplexity: [
            ParameterSpec("dataset", .dataset, required: true, doc: "Text dataset."),
            ParameterSpec("window", .int, default: 1024, doc: "Tokens per window."),
            ParameterSpec("stride", .int, default: 512, doc: "Tokens between window starts."),
            ParameterSpec("streams", .int, default: 2, doc: "Windows evaluated concurrently."),
            ParameterSpec("max_tokens", .int, doc: "Stop after this many tokens; whole dataset when absent."),
        ],
        .report: [
            ParameterSpec("formats", .stringList, default: ["markdown"], doc: "Report formats to write."),
        ],
    ]

    /// Input roles accepted by each stage kind; `report` accepts any role name from any stage.
    public static let inputs: [StageKind: [InputSpec]] = [
        .collectActivations: [],
        .vectors: [InputSpec("activations", from: [.collectActivations], required: true, doc: "Activations to derive vectors from.")],
        .steeringSweep: [InputSpec("vectors", from: [.vectors], required: true, doc: "Steering vectors.")],
        .tune: [InputSpec("vectors", from: [.vectors], required: true, doc: "Target directions.")],
        .evaluate: [
            InputSpec("model", from: [.tune], doc: "Tuned model to evaluate instead of the base model."),
            InputSpec("vectors", from: [.vectors], doc: "Vectors used by the steering variant."),
        ],
        .judge: [InputSpec("outputs", from: [.evaluate, .steeringSweep], required: true, doc: "Generations to grade.")],
        .perplexity: [InputSpec("model", from: [.tune], doc: "Tuned model to measure instead of the base model.")],
        .report: [],
    ]

    /// Kinds whose inputs may use any role name.
    public static let openInputKinds: Set<StageKind> = [.report]

    /// The parameters of `kind` (empty for none).
    public static func parameters(of kind: StageKind) -> [ParameterSpec] { table[kind] ?? [] }

    /// The input roles of `kind` (empty for none).
    public static func inputRoles(of kind: StageKind) -> [InputSpec] { inputs[kind] ?? [] }

    /// Every parameter name in the table, sorted.
    public static var allParameterNames: [String] {
        Array(Set(table.values.flatMap { $0.map(\.name) })).sorted()
    }
}
