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

    /// Scores `tokens` on `model`; `progress` is called with (windows done, windows total).
    public func evaluate(_ tokens: [Int], model: LlamaModel, interventions: [Intervention] = [],
                         progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        let n = maxTokens.map { min($0 + streams, tokens.count) } ?? tokens.count
        let per = (n + streams - 1) / max(streams, 1)
        var jobs = [(tokens: [Int], scored: Range<Int>)]()
        for s in 0..<max(streams, 1) {
            let stream = Array(tokens[min(s * per, n)..<min((s + 1) * per, n)])
            for w in windows(count: stream.count) {
                jobs.append((Array(stream[w.start..<w.end]), (w.scoredFrom - w.start)..<(w.end - w.start)))
            }
        }
        var nll = 0.0, scored = 0
        var done = 0
        progress(0, jobs.count)
        while done < jobs.count {
            let slice = Array(jobs[done..<min(done + max(batch, 1), jobs.count)])
            for logps in model.logProbabilities(slice, interventions: interventions) {
                nll -= logps.reduce(0, +)
                scored += logps.count
            }
            done += slice.count
            progress(done, jobs.count)
        }
        return Result(tokensScored: scored, negativeLogLikelihood: nll)
    }
}
