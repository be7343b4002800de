import Engine
import Foundation

/// ActAdd's perplexity-by-relatedness test (FORMAT.md, `openwebtext_experiments.py`): texts are scored with and
/// without the steering, each piece a forward pass of its own that starts like the steered prompts (the leading
/// token, when one is used); the tokens predicted at the positions the addition covers are not scored. The ratio is
/// exp(−(mean steered log-prob − mean unsteered log-prob)) per scored token: below 1 the steered model finds the
/// text likelier.
public enum RelatednessPerplexity {
    /// Summed log-probabilities of one group of texts.
    public struct Tally: Sendable, Equatable, Codable {
        public var steered = 0.0
        public var unsteered = 0.0
        public var tokens = 0
        public var pieces = 0

        public init() {}

        public mutating func add(_ other: Tally) {
            steered += other.steered
            unsteered += other.unsteered
            tokens += other.tokens
            pieces += other.pieces
        }

        /// Steered ÷ unsteered perplexity over the scored tokens (nil without tokens).
        public var ratio: Double? { tokens == 0 ? nil : exp(-(steered - unsteered) / Double(tokens)) }
        /// Whether both sums are finite.
        public var isFinite: Bool { steered.isFinite && unsteered.isFinite }
    }

    /// Scores `pieces` (token sequences, each beginning as the steered prompts do) with and without `steering`:
    /// tokens at positions after `steering.pair.length` are scored (the predictions made at the covered positions
    /// are left out); pieces too short to have one are skipped. `unsteered`, when given, is this call's unsteered
    /// sum computed before (it does not depend on the steering's block or coefficient, only on its length).
    public static func tally(_ pieces: [[Int]], model: LlamaModel, steering: ActAddSteering, unsteered: Double? = nil,
                             batch: Int = 8) -> Tally {
        var tally = Tally()
        tally.steered = logProbability(pieces, model: model, covered: steering.pair.length, interventions: [steering.intervention],
                                       batch: batch, tokens: &tally.tokens, pieces: &tally.pieces)
        var tokens = 0, scored = 0
        tally.unsteered = unsteered ?? logProbability(pieces, model: model, covered: steering.pair.length, interventions: [],
                                                      batch: batch, tokens: &tokens, pieces: &scored)
        return tally
    }

    /// The summed log-probability of the tokens after the first `covered + 1` of each piece long enough to have one.
    public static func logProbability(_ pieces: [[Int]], model: LlamaModel, covered: Int, interventions: [Intervention],
                                      batch: Int = 8, tokens: inout Int, pieces scoredPieces: inout Int) -> Double {
        let scorable = pieces.filter { $0.count > covered + 1 }
        var sum = 0.0
        for start in stride(from: 0, to: scorable.count, by: batch) {
            let group = scorable[start..<min(start + batch, scorable.count)].map { ($0, (covered + 1)..<$0.count) }
            for lp in model.logProbabilities(Array(group), interventions: interventions) {
                sum += lp.reduce(0, +)
                tokens += lp.count
                scoredPieces += 1
            }
        }
        return sum
    }

    /// The sentences of an essay as ActAdd scores them (its scripts use NLTK's punkt): each non-empty line, split
    /// after `.`, `!` or `?` followed by a space; surrounding whitespace trimmed.
    public static func sentences(_ text: String) -> [String] {
        var out: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            var current = ""
            var previous: Character?
            for ch in line {
                if ch == " ", let p = previous, ".!?".contains(p) {
                    out.append(current)
                    current = ""
                } else {
                    current.append(ch)
                }
                previous = ch
            }
            out.append(current)
        }
        return out.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// ActAdd's relevance of a document to a topic: topic words ÷ words over `text.lower().split()` (no punctuation
    /// stripping, unlike the count over completions); 0 for a text without words.
    public static func relevance(_ text: String, words: TopicWords) -> Double {
        let split = text.lowercased().split(whereSeparator: \.isWhitespace)
        guard !split.isEmpty else { return 0 }
        return Double(split.filter { words.words.contains(String($0)) }.count) / Double(split.count)
    }

    /// ActAdd's document subset: half the documents with the highest relevance (relevance > 0, ties by index),
    /// half drawn from those with none (a seeded shuffle); at most `count` in all. Returns document indices.
    public static func subset(relevances: [Double], count: Int, seed: UInt64) -> [Int] {
        let related = relevances.indices.filter { relevances[$0] > 0 }
            .sorted { relevances[$0] != relevances[$1] ? relevances[$0] > relevances[$1] : $0 < $1 }
        let chosenRelated = Array(related.prefix(count / 2))
        var unrelated = relevances.indices.filter { relevances[$0] == 0 }
        var g = SeededGenerator(seed: seed)
        unrelated.shuffle(using: &g)
        return chosenRelated + unrelated.prefix(count - chosenRelated.count)
    }

    /// The bin a relevance falls in, for bins of width `step` starting at 0.
    public static func bin(_ relevance: Double, step: Double) -> Int { Int((relevance / step).rounded(.down)) }
}
