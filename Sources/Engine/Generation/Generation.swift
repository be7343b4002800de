/// What to generate from one prompt.
public struct GenerationRequest: Sendable {
    public var prompt: [Int]
    /// Hooks applied at every forward step (prompt and generated tokens, as their selectors say).
    public var interventions: [Intervention]

    public init(prompt: [Int], interventions: [Intervention] = []) {
        self.prompt = prompt
        self.interventions = interventions
    }
}

/// Limits and decoding rule shared by a batch of generations.
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    public var sampling: Sampling
    /// Generation of a sequence ends after it emits one of these (the stop token is kept in the output).
    public var stopTokens: Set<Int>
    /// Keep the logits of the first generated position in each result (for logit-based answer scores).
    public var keepFirstLogits: Bool
    /// A frequency penalty on random sampling (ActAdd samples with TransformerLens's). One that counts the whole
    /// sequence needs the prompts: `generate` passes them; `decode` callers pass `prompts`.
    public var frequencyPenalty: FrequencyPenalty?

    public init(maxNewTokens: Int, sampling: Sampling = .greedy, stopTokens: Set<Int> = [], keepFirstLogits: Bool = false,
                frequencyPenalty: FrequencyPenalty? = nil) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokens = stopTokens
        self.keepFirstLogits = keepFirstLogits
        self.frequencyPenalty = frequencyPenalty
    }
}

/// One generated continuation.
public struct GenerationResult: Sendable, Equatable {
    public enum FinishReason: String, Sendable, Codable {
        /// The sequence emitted a stop token.
        case stopToken
        /// `maxNewTokens` were generated, or the sequence filled the model's context.
        case length
        /// The logits stopped being finite numbers (NaN or ±infinity: an intervention or weights overflowed fp32),
        /// or a steering intervention is too large for fp32 activations (`Intervention.overflowsFP32`); the sequence
        /// stopped without sampling.
        case nonFinite
    }
    /// New tokens, including the stop token if one ended the generation.
    public var tokens: [Int]
    public var finishReason: FinishReason
    /// Logits at the first generated position, when `GenerationOptions.keepFirstLogits` asked for them.
    public var firstLogits: [Float]?

    public init(tokens: [Int], finishReason: FinishReason, firstLogits: [Float]? = nil) {
        self.tokens = tokens
        self.finishReason = finishReason
        self.firstLogits = firstLogits
    }
}

extension LlamaModel {
    /// Generates continuations of many prompts at once: one batched prefill, then decode steps over every
    /// sequence still running.
    public func generate(_ requests: [GenerationRequest], options: GenerationOptions) -> [GenerationResult] {
        var running = requests.map { r in
            ForwardItem(tokens: r.prompt, cache: makeCache(reserve: cacheReserve(prompt: r.prompt.count, newTokens: options.maxNewTokens)),
                        promptLength: r.prompt.count, interventions: r.interventions, logits: .last)
        }
        guard options.maxNewTokens > 0 else { return requests.map { _ in GenerationResult(tokens: [], finishReason: .length) } }
        let outputs = forward(&running)
        return decode(&running, after: outputs, options: options, prompts: requests.map(\.prompt))
    }

    /// KV-cache rows to reserve for a prompt and the tokens to generate after it: never more than the model's
    /// context (a sequence stops there), whatever `newTokens` is.
    public func cacheReserve(prompt: Int, newTokens: Int) -> Int {
        let context = config.contextLength
        return prompt >= context ? prompt : prompt + min(max(0, newTokens), context - prompt)
    }

    /// Continues generation of sequences whose prompts have been run (their last logits in `outputs`): samples,
    /// then decode steps over every sequence still running, until stop tokens, `maxNewTokens`, or the model's
    /// context is full. A sequence whose logits are not finite stops there (`FinishReason.nonFinite`).
    /// `prompts` (one per item, whole) are what a frequency penalty counting the sequence starts from.
    public func decode(_ items: inout [ForwardItem], after firstOutputs: [ForwardOutput], options: GenerationOptions,
                       prompts: [[Int]]? = nil) -> [GenerationResult]
    {
        precondition(options.frequencyPenalty?.counted != .sequence || prompts?.count == items.count,
                     "decode: a frequency penalty that counts the prompt needs each item's whole prompt")
        var running = items
        items = []
        var outputs = firstOutputs
        var runningIndex = Array(running.indices)
        var sequences = running.indices.map {
            DecodingSequence(sampling: options.sampling, stream: UInt64($0), maxNewTokens: options.maxNewTokens,
                             stopTokens: options.stopTokens, interventions: running[$0].interventions,
                             frequencyPenalty: options.frequencyPenalty, prompt: prompts?[$0] ?? [])
        }
        guard options.maxNewTokens > 0 else { return sequences.map(\.result) }
        if options.keepFirstLogits {
            for (k, i) in runningIndex.enumerated() { sequences[i].result.firstLogits = Array(outputs[k].lastLogits) }
        }
        while true {
            var keep = [Bool]()
            for (k, i) in runningIndex.enumerated() {
                keep.append(sequences[i].advance(outputs[k].lastLogits, item: &running[k], contextLength: config.contextLength))
            }
            if !keep.contains(false) {
                outputs = forward(&running)
                continue
            }
            // Rebuild the running set; the old array is released before the next forward, so each cache is
            // uniquely referenced again and grows in place.
            running = running.indices.filter { keep[$0] }.map { running[$0] }
            runningIndex = runningIndex.indices.filter { keep[$0] }.map { runningIndex[$0] }
            if running.isEmpty { break }
            outputs = forward(&running)
        }
        return sequences.map(\.result)
    }
}
