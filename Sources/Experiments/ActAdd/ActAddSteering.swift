import Engine

/// ActAdd's steering for one block and coefficient: the residual streams of the padded prompt pair at the input of
/// block L (TransformerLens's `blocks.L.hook_resid_pre`), their per-position difference scaled by the coefficient,
/// and the intervention that adds row k at position k of a prompt (`Intervention.actAdd`).
public struct ActAddSteering: Sendable {
    public let pair: ActAddPair
    public let block: Int
    public let coefficient: Float
    /// `coefficient · (h(p₊) − h(p₋))`, row-major `[pair.length × width]`.
    public let rows: [Float]

    /// Runs both prompts of `pair` through `model` and takes their residuals at the input of `block`.
    public init(model: LlamaModel, pair: ActAddPair, block: Int, coefficient: Float) {
        let site: ResidualSite = block == 0 ? .embeddings : .block(block - 1)
        var items = [pair.plus, pair.minus].map {
            ForwardItem(tokens: $0, cache: model.makeCache(), interventions: [.capture(site)], logits: .none)
        }
        let outputs = model.forward(&items)
        self.pair = pair
        self.block = block
        self.coefficient = coefficient
        rows = pair.steering(plus: outputs[0].captures[0].values, minus: outputs[1].captures[0].values,
                             width: model.config.embeddingLength, coefficient: coefficient)
    }

    /// The hook adding the rows at the prompt's first positions.
    public var intervention: Intervention { .actAdd(block: block, rows: rows) }

    /// Whether every value is finite and the rows do not overflow fp32 in the next RMSNorm: a coefficient this large
    /// makes every later activation meaningless.
    public var isFinite: Bool { rows.allSatisfy(\.isFinite) && !intervention.overflowsFP32 }
}
