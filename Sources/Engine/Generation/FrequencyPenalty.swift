/// A frequency penalty as TransformerLens samples with it (and so ActAdd, `freq_penalty`): after the logits are
/// divided by the temperature, each token's logit loses `penalty × n`, where n is how often the token occurs in the
/// tokens counted so far. `counted` says which tokens those are: the whole sequence, prompt included
/// (TransformerLens passes its whole token tensor), or only the generated ones (OpenAI's `frequency_penalty`).
public struct FrequencyPenalty: Sendable, Equatable, Codable {
    /// Which tokens of a sequence count towards the penalty.
    public enum Counted: String, Sendable, Equatable, Codable {
        /// Prompt and generated tokens (TransformerLens, ActAdd).
        case sequence
        /// Generated tokens only (OpenAI).
        case generated
    }

    public var penalty: Float
    public var counted: Counted

    public init(_ penalty: Float, counted: Counted = .sequence) {
        self.penalty = penalty
        self.counted = counted
    }

    /// `logit / temperature − penalty × count(token)` for one token.
    @inlinable
    public func adjusted(_ logit: Float, temperature: Float, count: Int) -> Float {
        logit / temperature - penalty * Float(count)
    }
}
