import Engine
import Foundation

/// What one request asks the engine for: its prompt, the variant it runs on, its own interventions and sampling.
public struct GenerationJob: Sendable {
    public var prompt: [Int]
    /// Index of the model variant in the batch's `ModelVariants` (0 = the base model).
    public var variant: Int
    public var interventions: [Intervention]
    public var sampling: Sampling
    public var maxNewTokens: Int
    public var stopTokens: Set<Int>
    /// How many alternatives to report with each token's log-probability (nil: no log-probabilities).
    public var topLogprobs: Int?

    public init(prompt: [Int], variant: Int = 0, interventions: [Intervention] = [], sampling: Sampling,
                maxNewTokens: Int, stopTokens: Set<Int>, topLogprobs: Int? = nil) {
        self.prompt = prompt
        self.variant = variant
        self.interventions = interventions
        self.sampling = sampling
        self.maxNewTokens = maxNewTokens
        self.stopTokens = stopTokens
        self.topLogprobs = topLogprobs
    }
}

/// One generated token as the batch reports it, with its log-probability and the most likely alternatives when
/// the job asked for them (natural logs of the model's distribution at that position, before sampling settings).
public struct GeneratedToken: Sendable {
    public var id: Int
    public var logprob: Double?
    public var top: [(id: Int, logprob: Double)]
}

/// The tokens of one job as they come out of the batch, read by the request's connection thread. Cancelling
/// (client gone, stop string found) takes the sequence out of the batch at the next step.
public final class JobChannel: @unchecked Sendable {
    public enum Event: Sendable {
        case token(GeneratedToken)
        case finished(GenerationResult.FinishReason)
    }

    private let condition = NSCondition()
    private var events: [Event] = []
    private var cancelled = false
    /// When the job was submitted and when its first token came (time to first token).
    public let submitted = Date()
    public private(set) var firstTokenAt: Date?

    public init() {}

    func post(_ event: Event) {
        condition.lock()
        if case .token = event, firstTokenAt == nil { firstTokenAt = Date() }
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    /// Every event posted since the last call, waiting until there is at least one.
    public func next() -> [Event] {
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty { condition.wait() }
        let out = events
        events.removeAll()
        return out
    }

    /// Every event posted since the last call, waiting at most `timeout` seconds for one (empty if none came).
    public func next(timeout: TimeInterval) -> [Event] {
        condition.lock()
        defer { condition.unlock() }
        if events.isEmpty { _ = condition.wait(until: Date(timeIntervalSinceNow: timeout)) }
        let out = events
        events.removeAll()
        return out
    }

    public func cancel() {
        condition.lock()
        cancelled = true
        condition.unlock()
    }

    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }
}
