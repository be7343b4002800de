/// The parameter tables of every stage kind, read from their declarations (`StageDeclaration`), and the rows several
/// kinds share (a block index, a steering multiplier, the model-variant parameters). The manifest validator,
/// `docs/MANIFEST.md` and `docs/manifest.schema.json` are generated from these tables, so they cannot disagree.
public enum StageCatalog {
    /// All parameter names of all kinds (for suggestions and for validating `defaults`).
    public static var allParamNames: [String] {
        var seen: Set<String> = []
        return all.flatMap { $0.params.map(\.name) }.filter { seen.insert($0).inserted }
    }

    // Shared rows.
    static let block = ParamType.integer(min: 0, max: ManifestFields.maxBlocks - 1)
    static let layerList = ParamType.list(block)
    static let offset = ParamType.integer(min: -ManifestFields.maxTokens, max: 0)
    static let newTokens = ParamType.integer(min: 1, max: ManifestFields.maxTokens)
    static let batch = ParamType.integer(min: 1, max: ManifestFields.maxBatch)
    static let steps = ParamType.integer(min: 0, max: ManifestFields.maxSteps)
    /// A steering multiplier: any number fp32 can hold (what overflows the activations stops its cell).
    static let multiplier = ParamType.number(min: -Double(Float.greatestFiniteMagnitude), max: Double(Float.greatestFiniteMagnitude))
    static let rate = ParamType.number(min: 0, max: Double(Float.greatestFiniteMagnitude))
    static let variantRows: [ParamSpec] = [
        ParamSpec("variant", .choice(["base", "steered", "tuned"]), .defaulted(.string("base")),
                  doc: "Which model answers: the base model, the base model steered by input `vector` at `layer` × "
                       + "`multiplier`, or the weights produced by the `tuned` input stage (steered as well when "
                       + "`layer`, `multiplier` and a `vector` input are given: the robustness test)."),
        ParamSpec("layer", block, .optional, axis: "layer", model: .block,
                  doc: "Steered variant: the block whose output the vector is added to. A grid sweeps layers."),
        ParamSpec("multiplier", multiplier, .optional, axis: "multiplier",
                  doc: "Steered variant: the steering multiplier m (negative steers the other way). A grid sweeps "
                       + "multipliers."),
        ParamSpec("tuned_cell", .integer(min: 0, max: ManifestFields.maxCells - 1), .defaulted(.int(0)),
                  doc: "Tuned variant: which cell of the `tuned` stage's sweep supplies the weights (0 = first)."),
    ]
    static let variantRules: [ParamRule] = [
        ParamRule(when: "variant", in: ["steered"], requiresParams: ["layer", "multiplier"], requiresInputs: ["vector"]),
        ParamRule(when: "variant", in: ["tuned"], requiresInputs: ["tuned"]),
    ]
    static let variantInputs: [InputSpec] = [
        InputSpec("vector", accepts: [.vectors], required: false, doc: "Steering vectors (steered variant)."),
        InputSpec("tuned", accepts: [.tune], required: false, doc: "Tuned weights (tuned variant)."),
    ]

    /// Every kind's table, in the order of `StageDeclaration.all`.
    public static var all: [StageKindSpec] { StageDeclaration.all.map(\.spec) }
}
