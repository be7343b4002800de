import Foundation

/// ActAdd's topic measure over sampled completions: the mean topic-word count per completion (with a 95% interval,
/// normal approximation: mean ± 1.96·s/√n, s the sample standard deviation) and the share of completions holding at
/// least one topic word (with its Wilson 95% interval) — `wedding_generations.py`'s two numbers.
public struct TopicFrequency: Sendable, Equatable {
    public let counts: [Int]

    public init(counts: [Int]) { self.counts = counts }

    public var n: Int { counts.count }

    /// Mean topic words per completion (0 without completions).
    public var mean: Double { n == 0 ? 0 : Double(counts.reduce(0, +)) / Double(n) }

    /// The 95% interval of the mean, `(low, high)` (the mean itself when n < 2).
    public var meanInterval: (low: Double, high: Double) {
        guard let interval = MeanInterval(counts.map(Double.init), z: StandardNormal.quantile(0.975)) else { return (0, 0) }
        return (max(0, interval.low), interval.high)
    }

    /// Completions with at least one topic word, with the Wilson 95% interval of their share.
    public var share: WilsonInterval { WilsonInterval(successes: counts.filter { $0 > 0 }.count, trials: n) }
}
