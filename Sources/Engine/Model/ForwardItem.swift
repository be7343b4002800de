/// One sequence in a batched forward pass: its new tokens, its KV cache, and the hooks to apply to it.
public struct ForwardItem: Sendable {
    /// Which positions' logits to return.
    public enum LogitRows: Sendable, Equatable {
        case none
        /// The last new token only.
        case last
        /// Every new token.
        case all
        /// The new tokens from this index on (e.g. the scored part of a perplexity window).
        case from(Int)
    }

    /// Tokens appended to the sequence by this pass.
    public var tokens: [Int]
    /// Keys and values of the positions before `tokens`; grows by `tokens.count`.
    public var cache: KVCache
    /// Length of the prompt, for `.prompt` / `.generated` selectors; nil means every token so far is prompt.
    public var promptLength: Int?
    public var interventions: [Intervention]
    public var logits: LogitRows

    public init(tokens: [Int], cache: KVCache, promptLength: Int? = nil, interventions: [Intervention] = [],
                logits: LogitRows = .last) {
        self.tokens = tokens
        self.cache = cache
        self.promptLength = promptLength
        self.interventions = interventions
        self.logits = logits
    }
}

/// What a forward pass returns for one sequence.
public struct ForwardOutput: Sendable {
    /// Absolute positions whose logits are in `logits`.
    public var logitPositions: [Int]
    /// Row-major `[logitPositions.count × vocab]`.
    public var logits: [Float]
    public var vocabularySize: Int
    /// Residual-stream captures, in the order of the item's capture interventions.
    public var captures: [Capture]
    /// For a pass stopped before the last block: the residual stream entering the next block, `[tokens × d]`.
    public var residual: [Float]?

    /// Logits of the `k`-th returned position.
    public func logitsRow(_ k: Int) -> ArraySlice<Float> {
        logits[k * vocabularySize..<(k + 1) * vocabularySize]
    }

    /// Logits of the last returned position.
    public var lastLogits: ArraySlice<Float> { logitsRow(logitPositions.count - 1) }

    /// The capture taken at `site`, if any.
    public func capture(at site: ResidualSite) -> Capture? { captures.first { $0.site == site } }
}
