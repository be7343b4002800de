import Engine
import Foundation

/// Perplexity of a long token stream scored with a sliding window (METHOD.md §7).
///
/// Windows of `window` tokens start at 0, `stride`, 2·`stride`, …; each scores only the tokens after the previous
/// window's end (the first window scores all but its first token), so every token but the first of a stream is
/// scored exactly once with up to `window − stride` tokens of context. The text may be split into `streams`
/// contiguous streams scored independently (the paper uses 2); windows are batched `batch` at a time. With
/// `stride == window` the first token of each window after the first has no context and is not scored.
public struct SlidingWindowPerplexity: Sendable, Codable, Equatable {
    public var window: Int
    public var stride: Int
    public var streams: Int
    /// Score at most this many tokens in all (a quick run scores a slice); nil scores everything.
    public var maxTokens: Int?
    public var batch: Int

    public init(window: Int = 1024, stride: Int = 512, streams: Int = 2, maxTokens: Int? = nil, batch: Int = 2) {
        self.window = window
        self.stride = stride
        self.streams = streams
        self.maxTokens = maxTokens
        self.batch = batch
    }

    /// The outcome: total negative log-likelihood over the scored tokens and its exponentiated mean.
    public struct Result: Sendable, Codable, Equatable {
        public var tokensScored: Int
        public var negativeLogLikelihood: Double
        public var perplexity: Double { exp(negativeLogLikelihood / Double(max(tokensScored, 1))) }
    }

    /// Windows over one stream of `n` tokens: `(start, end, firstScored)`.
    public func windows(count n: Int) -> [(start: Int, end: Int, scoredFrom: Int)] {
        var result = [(Int, Int, Int)]()
        var previousEnd = 0
        var start = 0
        while previousEnd < n {
            let end = min(start + window, n)
            let scoredFrom = max(previousEnd, start + 1)
            if scoredFrom < end { result.append((start, end, scoredFrom)) }
            previousEnd = end
            start += stride
        }
        return result
    }

    /// How far a scoring has got: the windows done, in the fixed order `evaluate` scores them, and their sums. An
    /// evaluation started from a tally continues where it stopped and ends with the uninterrupted result to the bit
    /// (the sums are taken in the same order).
    public struct Tally: Sendable, Codable, Equatable {
        public var windows: Int
        public var tokensScored: Int
        public var negativeLogLikelihood: Double

        public init(windows: Int = 0, tokensScored: Int = 0, negativeLogLikelihood: Double = 0) {
            self.windows = windows
            self.tokensScored = tokensScored
            self.negativeLogLikelihood = negativeLogLikelihood
        }
    }

    /// The windows `evaluate` scores for a stream of `count` tokens, in order: each window's tokens as a range of
    /// the stream and the range of positions within the window that are scored.
    public func jobs(count: Int) -> [(tokens: Range<Int>, scored: Range<Int>)] {
        let n = maxTokens.map { min($0 + streams, count) } ?? count
        let per = (n + streams - 1) / max(streams, 1)
        var jobs = [(tokens: Range<Int>, scored: Range<Int>)]()
        for s in 0..<max(streams, 1) {
            let offset = min(s * per, n)
            for w in windows(count: min((s + 1) * per, n) - offset) {
                jobs.append(((offset + w.start)..<(offset + w.end), (w.scoredFrom - w.start)..<(w.end - w.start)))
            }
        }
        return jobs
    }

    /// Scores `tokens` on `model`, starting from `tally` (a fresh one by default). After every batch of windows
    /// `afterBatch` gets the running tally and the number of windows in all; it may save the tally, or throw to
    /// stop (the error is passed on).
    public func evaluate(_ tokens: [Int], model: LlamaModel, interventions: [Intervention] = [], from tally: Tally = Tally(),
                         afterBatch: (Tally, Int) throws -> Void = { _, _ in }) rethrows -> Result {
        let jobs = jobs(count: tokens.count)
        var tally = tally
        while tally.windows < jobs.count {
            let slice = jobs[tally.windows..<min(tally.windows + max(batch, 1), jobs.count)]
            let sequences = slice.map { (tokens: Array(tokens[$0.tokens]), scored: $0.scored) }
            for logps in model.logProbabilities(sequences, interventions: interventions) {
                tally.negativeLogLikelihood -= logps.reduce(0, +)
                tally.tokensScored += logps.count
            }
            tally.windows += slice.count
            try afterBatch(tally, jobs.count)
        }
        return Result(tokensScored: tally.tokensScored, negativeLogLikelihood: tally.negativeLogLikelihood)
    }
}
