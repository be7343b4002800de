import Engine
import Experiments
import Foundation
import ModelFormats
import Testing

/// ActAdd's measures against hand-computed values: the topic-frequency intervals, the perplexity ratio against a
/// direct log-softmax of the logits, the sentence split, relevance and the related/unrelated document subset.
@Suite struct ActAddMeasuresTests {
    @Test func topicFrequencyIntervals() {
        // counts 0, 1, 2, 3: mean 1.5, sample variance 5/3, half-width 1.959964 · sqrt(5/12).
        let f = TopicFrequency(counts: [0, 1, 2, 3])
        #expect(f.mean == 1.5)
        let half = 1.959963984540054 * (5.0 / 12.0).squareRoot()
        #expect(abs(f.meanInterval.low - (1.5 - half)) < 1e-9 && abs(f.meanInterval.high - (1.5 + half)) < 1e-9)
        // The lower end is clipped at 0; the share is a Wilson interval of 3 of 4.
        #expect(TopicFrequency(counts: [0, 0, 0, 4]).meanInterval.low == 0)
        #expect(f.share == WilsonInterval(successes: 3, trials: 4))
        let single = TopicFrequency(counts: [2]).meanInterval
        #expect(single.low == 2 && single.high == 2)
    }

    @Test func sentencesRelevanceAndSubset() {
        #expect(RelatednessPerplexity.sentences("Title: Weddings\n\nA bride. The groom! Why? e.g.x\n  ")
                == ["Title: Weddings", "A bride.", "The groom!", "Why?", "e.g.x"])
        // Whitespace split only: "wedding," is not a keyword, "bride" is (1 of 4 words).
        #expect(RelatednessPerplexity.relevance("The bride wore wedding,", words: .wedding) == 0.25)
        #expect(RelatednessPerplexity.relevance("", words: .wedding) == 0)
        let subset = RelatednessPerplexity.subset(relevances: [0, 0.5, 0, 0.25, 0.5, 0, 0], count: 4, seed: 1)
        #expect(Array(subset.prefix(2)) == [1, 4])                         // the two most related, ties by index
        #expect(subset.count == 4 && subset.dropFirst(2).allSatisfy { [0, 2, 5, 6].contains($0) })
        #expect(RelatednessPerplexity.subset(relevances: [0, 0.5, 0, 0.25, 0.5, 0, 0], count: 4, seed: 1) == subset)
        #expect(RelatednessPerplexity.bin(0.0049, step: 0.005) == 0 && RelatednessPerplexity.bin(0.012, step: 0.005) == 2)
    }

    /// The ratio from the tiny random model's logits written out: log-softmax by hand over the tokens after the
    /// covered positions, with and without the rows added position by position.
    @Test func perplexityRatioMatchesADirectComputation() throws {
        let config = ModelConfig(architecture: "llama", vocabularySize: 23, embeddingLength: 8, blockCount: 3, feedForwardLength: 12,
                                 headCount: 4, headCountKV: 2, headDimension: 4, contextLength: 32, rmsEpsilon: 1e-5,
                                 ropeTheta: 10000, ropeLayout: .interleaved, tiedEmbeddings: false, attentionBias: false)
        let model = LlamaModel.random(config: config, seed: 4)
        let pair = try ActAddPair(plusText: "a", plusTokens: [5, 6], minusText: "", minusTokens: [], pad: 2, leading: 1)
        let steering = ActAddSteering(model: model, pair: pair, block: 1, coefficient: 3)
        #expect(steering.rows.count == 3 * config.embeddingLength)
        #expect(steering.rows.prefix(config.embeddingLength).allSatisfy { $0 == 0 })   // same leading token: zero difference
        let pieces = [[1, 4, 7, 3, 9, 2], [1, 8, 8], [1, 3, 5, 7, 9]]    // the second is too short to score
        let tally = RelatednessPerplexity.tally(pieces, model: model, steering: steering, batch: 2)
        func direct(_ tokens: [Int], _ interventions: [Intervention]) -> Double {
            var items = [ForwardItem(tokens: tokens, cache: model.makeCache(), interventions: interventions, logits: .all)]
            let logits = model.forward(&items)[0].logits, v = config.vocabularySize
            var sum = 0.0
            for t in (pair.length + 1)..<tokens.count {
                let row = logits[(t - 1) * v..<t * v].map(Double.init)
                let m = row.max()!
                sum += row[tokens[t]] - m - log(row.reduce(0) { $0 + exp($1 - m) })
            }
            return sum
        }
        let scored = [pieces[0], pieces[2]]
        let base = scored.reduce(0) { $0 + direct($1, []) }, steered = scored.reduce(0) { $0 + direct($1, [steering.intervention]) }
        #expect(tally.tokens == 2 + 1 && tally.pieces == 2)
        #expect(abs(tally.unsteered - base) < 1e-4 && abs(tally.steered - steered) < 1e-4)
        #expect(abs(try #require(tally.ratio) - exp(-(steered - base) / 3)) < 1e-4)
        #expect(steered != base)
    }
}
