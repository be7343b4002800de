import Engine
import Foundation

/// The models a batch can run: the base (index 0) and tuned variants of it (the base with some blocks' weights
/// replaced). Sequences on different variants share one batch (`VariantBatchForward`): the blocks they have in
/// common run once over all of them.
public struct ModelVariants: Sendable {
    public var models: [LlamaModel]
    public init(base: LlamaModel, variants: [LlamaModel] = []) { models = [base] + variants }
    public var base: LlamaModel { models[0] }
}

/// Continuous batching on one engine thread: jobs join the running decode batch as they arrive (their prompt
/// prefilled in a pass of its own) and leave it when they finish or are cancelled; every decode step runs all
/// running sequences as one ragged batch, each with its own interventions, variant and sampler.
///
/// Determinism: a prompt is always prefilled alone and a decode step gives each sequence one row, so a
/// sequence's rows go through the same kernels whatever else is in the batch (every decode-step product is
/// computed row by row, `QuantizedMatMulTests`); greedy requests get their solo tokens (`ServerBatchTests`).
public final class ContinuousBatch: @unchecked Sendable {
    public let variants: ModelVariants
    /// Most sequences decoded together; more jobs wait in arrival order.
    public let maxBatch: Int

    private let condition = NSCondition()
    private var queue: [(job: GenerationJob, channel: JobChannel)] = []
    private var stopping = false
    private var thread: Thread?
    private var runningCount = 0
    /// Decode steps run and tokens generated (for `bench --serve` and `/health`).
    public private(set) var steps = 0
    public private(set) var generatedTokens = 0

    public init(variants: ModelVariants, maxBatch: Int) {
        self.variants = variants
        self.maxBatch = max(1, maxBatch)
    }

    public func start() {
        let t = Thread { [self] in loop() }
        t.name = "engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// Queues a job; its tokens arrive on the returned channel.
    public func submit(_ job: GenerationJob) -> JobChannel {
        let channel = JobChannel()
        condition.lock()
        if stopping {
            condition.unlock()
            channel.post(.finished(.length))
            return channel
        }
        queue.append((job, channel))
        condition.signal()
        condition.unlock()
        return channel
    }

    /// Jobs waiting and sequences decoding.
    public var load: (queued: Int, running: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (queue.count, runningCount)
    }

    /// Finishes every job already submitted (running or queued), then ends the engine thread.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private struct Running {
        var item: ForwardItem
        var sequence: DecodingSequence
        var job: GenerationJob
        var channel: JobChannel
    }

    private func loop() {
        let context = variants.base.config.contextLength
        var running: [Running] = []
        while true {
            condition.lock()
            while running.isEmpty && queue.isEmpty && !stopping { condition.wait() }
            if running.isEmpty && queue.isEmpty && stopping {
                condition.unlock()
                return
            }
            let admitted = Array(queue.prefix(maxBatch - running.count))
            queue.removeFirst(admitted.count)
            condition.unlock()

            // Newcomers: each prompt prefilled alone, then its first token.
            for (job, channel) in admitted where !channel.isCancelled {
                let model = variants.models[job.variant]
                var items = [ForwardItem(tokens: job.prompt,
                                         cache: model.makeCache(reserve: model.cacheReserve(prompt: job.prompt.count, newTokens: job.maxNewTokens)),
                                         promptLength: job.prompt.count, interventions: job.interventions, logits: .last)]
                let out = model.forward(&items)
                var r = Running(item: items[0], sequence: DecodingSequence(sampling: job.sampling, maxNewTokens: job.maxNewTokens,
                                                                           stopTokens: job.stopTokens, interventions: job.interventions),
                                job: job, channel: channel)
                if job.maxNewTokens > 0, step(&r, logits: out[0].lastLogits, context: context) { running.append(r) }
                else if job.maxNewTokens <= 0 { channel.post(.finished(.length)) }
            }
            running.removeAll { r in
                if r.channel.isCancelled { r.channel.post(.finished(.stopToken)) }
                return r.channel.isCancelled
            }
            setRunning(running.count)
            guard !running.isEmpty else { continue }

            // One decode step over every running sequence.
            var items = running.map(\.item)
            for k in running.indices { running[k].item = ForwardItem(tokens: [], cache: KVCache(blocks: 0, width: 0)) }
            let outputs = VariantBatchForward.forward(&items, variantOf: running.map(\.job.variant), models: variants.models)
            var keep: [Running] = []
            keep.reserveCapacity(running.count)
            for k in running.indices {
                var r = running[k]
                r.item = items[k]
                if step(&r, logits: outputs[k].lastLogits, context: context) { keep.append(r) }
            }
            items.removeAll()
            running = keep
            condition.lock()
            steps += 1
            condition.unlock()
        }
    }

    private func setRunning(_ n: Int) {
        condition.lock()
        runningCount = n
        condition.unlock()
    }

    /// Samples one token for `r` from `logits`, reports it, and whether the sequence goes on.
    private func step(_ r: inout Running, logits: ArraySlice<Float>, context: Int) -> Bool {
        let goesOn = r.sequence.advance(logits, item: &r.item, contextLength: context)
        if r.sequence.result.finishReason == .nonFinite {
            r.channel.post(.finished(.nonFinite))
            return false
        }
        let id = r.sequence.result.tokens.last!
        var token = GeneratedToken(id: id, logprob: nil, top: [])
        if let k = r.job.topLogprobs { (token.logprob, token.top) = Self.logprobs(logits, token: id, top: k) }
        r.channel.post(.token(token))
        condition.lock()
        generatedTokens += 1
        condition.unlock()
        if !goesOn { r.channel.post(.finished(r.sequence.result.finishReason)) }
        return goesOn
    }

    /// log p(token) and the `top` most likely tokens with theirs, from one position's logits.
    static func logprobs(_ logits: ArraySlice<Float>, token: Int, top: Int) -> (Double, [(id: Int, logprob: Double)]) {
        logits.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!, n = buffer.count
            let lse = ActivationKernels.logSumExp(p, count: n)
            var best: [(id: Int, logit: Float)] = []
            if top > 0 {
                for i in 0..<n where best.count < top || p[i] > best[best.count - 1].logit {
                    let at = best.firstIndex { p[i] > $0.logit } ?? best.count
                    best.insert((i, p[i]), at: at)
                    if best.count > top { best.removeLast() }
                }
            }
            return (Double(p[token]) - lse, best.map { ($0.id, Double($0.logit) - lse) })
        }
    }
}
