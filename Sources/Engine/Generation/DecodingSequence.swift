/// One sequence being decoded, one token at a time: its sampler, limits and the tokens so far. `generate`'s decode
/// loop and the server's continuous batch (where sequences join and leave between steps) both step sequences
/// through `advance`, so a sequence decodes the same way in either.
public struct DecodingSequence: Sendable {
    public var sampler: Sampler
    public let maxNewTokens: Int
    public let stopTokens: Set<Int>
    /// A steering intervention too large for fp32 (`Intervention.overflowsFP32`): the sequence ends at once.
    public let overflowing: Bool
    public var result = GenerationResult(tokens: [], finishReason: .length)

    /// With a `frequencyPenalty` that counts the whole sequence, `prompt`'s tokens count from the start.
    public init(sampling: Sampling, stream: UInt64 = 0, maxNewTokens: Int, stopTokens: Set<Int>,
                interventions: [Intervention], frequencyPenalty: FrequencyPenalty? = nil, prompt: [Int] = []) {
        sampler = Sampler(sampling, stream: stream, frequencyPenalty: frequencyPenalty)
        if frequencyPenalty?.counted == .sequence { for token in prompt { sampler.record(token) } }
        self.maxNewTokens = maxNewTokens
        self.stopTokens = stopTokens
        overflowing = interventions.contains(where: \.overflowsFP32)
    }

    /// Takes the logits of the sequence's last position: ends it on non-finite logits (`nonFinite`), else samples
    /// the next token, appends it to `result` and sets it as `item`'s next input. Returns whether the sequence
    /// goes on (no stop token, fewer than `maxNewTokens`, and room left in the model's `contextLength`).
    public mutating func advance(_ logits: ArraySlice<Float>, item: inout ForwardItem, contextLength: Int) -> Bool {
        guard !overflowing, logits.allSatisfy(\.isFinite) else {
            result.finishReason = .nonFinite
            return false
        }
        let token = sampler.next(logits)
        sampler.record(token)
        result.tokens.append(token)
        item.tokens = [token]
        item.logits = .last
        if stopTokens.contains(token) { result.finishReason = .stopToken }
        return result.finishReason != .stopToken && result.tokens.count < maxNewTokens && item.cache.count < contextLength
    }
}
