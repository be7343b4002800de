import Engine
import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// CAST's operators against hand-computed cases (the similarity of a mean residual to a condition vector, the
/// decision, the mean-difference vector, the threshold grid search and its scores), and several steering terms at
/// once against one forward with their vectors summed where they overlap.
@Suite struct ConditionalSteeringTests {
    @Test func similarityIsTheCosineOfTheTokenMeanAndDecidesByTheComparator() throws {
        // Rows (1, 0, 2) and (3, 0, 0): mean (2, 0, 1); v = (1, 1, 0): cos = 2 / (√5 · √2) = 0.632455…
        let rows: [Float] = [1, 0, 2, 3, 0, 0]
        let v: [Float] = [1, 1, 0]
        let s = SteeringCondition.similarity(rows: rows, width: 3, vector: v)
        #expect(abs(s - 2 / (5.0.squareRoot() * 2.0.squareRoot())) < 1e-12)
        let atLeast = try SteeringCondition(layer: 3, vector: v, width: 3, comparator: .atLeast, threshold: 0.6)
        let atMost = try SteeringCondition(layer: 3, vector: v, width: 3, comparator: .atMost, threshold: 0.6)
        #expect(atLeast.fires(atLeast.similarity(rows: rows)) && !atMost.fires(s))
        #expect(atLeast.fires(0.6) && atMost.fires(0.6), "the threshold itself passes both comparators")
        // The opposite direction: cos −0.632…, the sign kept.
        #expect(abs(SteeringCondition.similarity(rows: rows, width: 3, vector: [-1, -1, 0]) + s) < 1e-12)
        // Centred on (1, 0, 1): (1, 0, 0) against (1, 1, 0) → 1/√2; the condition applies its centre.
        #expect(abs(SteeringCondition.similarity(rows: rows, width: 3, vector: v, centre: [1, 0, 1]) - 0.5.squareRoot()) < 1e-12)
        let centred = try SteeringCondition(layer: 3, vector: v, width: 3, comparator: .atLeast, threshold: 0.7, centre: [1, 0, 1])
        let raw = try SteeringCondition(layer: 3, vector: v, width: 3, comparator: .atLeast, threshold: 0.7)
        #expect(centred.fires(centred.similarity(rows: rows)) && !raw.fires(raw.similarity(rows: rows)))
        #expect(SteeringCondition.mean([[1, 0, 2], [3, 0, 0]]) == [2, 0, 1])
        // A zero mean has similarity 0 rather than NaN.
        #expect(SteeringCondition.similarity(rows: [1, 0, 0, -1, 0, 0], width: 3, vector: v) == 0)
        // Mean difference of two prompt sets (each prompt already a token mean).
        #expect(SteeringCondition.meanDifference(steer: [[1, 2, 3], [3, 2, 1]], keep: [[0, 0, 1]]) == [2, 2, 1])
    }

    @Test func aConditionOfTheWrongWidthOrAllZeroIsRefused() {
        #expect(throws: SteeringCondition.Problem.self) {
            try SteeringCondition(layer: 2, vector: [1, 2], width: 3, comparator: .atLeast, threshold: 0)
        }
        do {
            _ = try SteeringCondition(layer: 2, vector: [1, 2], width: 3, comparator: .atLeast, threshold: 0)
        } catch {
            #expect("\(error)".contains("2 entries") && "\(error)".contains("block 2 has 3"), "\(error)")
        }
        #expect(throws: SteeringCondition.Problem.self) {
            try SteeringCondition(layer: 2, vector: [0, 0, 0], width: 3, comparator: .atLeast, threshold: 0)
        }
        #expect(throws: SteeringCondition.Problem.self) {
            try SteeringCondition(layer: 2, vector: [1, 2, 3], width: 3, comparator: .atLeast, threshold: 0, centre: [0, 0])
        }
        #expect(throws: SteeringCondition.Problem.self) {
            try SteeringCondition(layer: 2, vector: [1, .nan, 0], width: 3, comparator: .atLeast, threshold: 0)
        }
    }

    @Test func thresholdSearchPicksTheKnownBestThreshold() throws {
        let similarities = [0.9, 0.7, 0.4, 0.2, 0.5]
        let labels = [true, true, false, false, true]
        // ≥ 0.3: TP 3, FP 1 → F1 6/7; ≥ 0.45: TP 3 → F1 1; ≥ 0.6: TP 2, FN 1 → 4/5; ≥ 0.8: TP 1, FN 2 → 1/2.
        let search = try ThresholdSearch(similarities: similarities, labels: labels, thresholds: [0.3, 0.45, 0.6, 0.8],
                                         comparator: .atLeast, metric: .f1)
        #expect(search.chosen.threshold == 0.45 && search.chosen.score == 1)
        #expect(search.rows.map(\.score) == [6.0 / 7, 1, 0.8, 0.5])
        #expect(search.rows[0].confusion == .init(fired: [true, true, true, false, true], labels: labels))
        #expect(search.rows[0].confusion.falsePositives == 1 && search.rows[3].confusion.falseNegatives == 2)
        // Accuracy: 4/5, 1, 4/5, 3/5. Ties go to the first threshold listed.
        let accuracy = try ThresholdSearch(similarities: similarities, labels: labels, thresholds: [0.3, 0.6, 0.45, 0.42],
                                           comparator: .atLeast, metric: .accuracy)
        #expect(accuracy.rows.map(\.score) == [0.8, 0.8, 1, 1] && accuracy.chosen.threshold == 0.45)
        // `<=` turns the decisions around: ≤ 0.45 fires on 0.4 and 0.2 (both "should not") → F1 0 for these labels,
        // and the labels flipped make 0.45 perfect.
        let below = try ThresholdSearch(similarities: similarities, labels: labels.map { !$0 }, thresholds: [0.1, 0.45, 0.95],
                                        comparator: .atMost, metric: .f1)
        #expect(below.chosen.threshold == 0.45 && below.chosen.score == 1 && below.rows[0].score == 0)
        // F1 and accuracy can disagree: with one positive of five, firing on none is 80% accurate but F1 0.
        let rare = [true, false, false, false, false]
        let f1 = try ThresholdSearch(similarities: [0.5, 0.6, 0.1, 0.1, 0.1], labels: rare, thresholds: [0.9, 0.45], comparator: .atLeast, metric: .f1)
        let acc = try ThresholdSearch(similarities: [0.5, 0.6, 0.1, 0.1, 0.1], labels: rare, thresholds: [0.9, 0.45], comparator: .atLeast, metric: .accuracy)
        #expect(f1.chosen.threshold == 0.45 && abs(f1.chosen.score - 2.0 / 3) < 1e-15)
        #expect(acc.chosen.threshold == 0.9 && acc.chosen.score == 0.8)
    }

    @Test func anEmptyOrNonFiniteThresholdGridIsRefused() {
        for grid in [[], [0.2, .nan], [.infinity]] as [[Double]] {
            do {
                _ = try ThresholdSearch(similarities: [0.1], labels: [true], thresholds: grid, comparator: .atLeast, metric: .f1)
                Issue.record("grid \(grid) was accepted")
            } catch {
                #expect("\(error)".contains(grid.isEmpty ? "empty" : "not a finite number"), "\(error)")
            }
        }
    }
}

/// Several steering terms at once on SmolLM2: two vectors on one block add up where their positions overlap, equal
/// to one forward that adds their sum there (and each alone elsewhere).
@Suite(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
struct SteeringTermsTests {
    @Test func twoTermsEqualTheirSumWhereTheyOverlap() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let width = model.network.config.embeddingLength
        var g = SeededGenerator(seed: 5)
        let v1 = (0..<width).map { _ in g.nextUnit() - 0.5 }, v2 = (0..<width).map { _ in g.nextUnit() - 0.5 }
        let tokens = CAAPromptFormat.llama2Paper.tokens(question: "Would you help me?\n\nChoices:\n (A) Yes\n (B) No", answer: "(",
                                                        systemPrompt: nil, tokenizer: model.tokenizer)
        let start = try CAAPromptFormat.llama2Paper.steeringStart(in: tokens, tokenizer: model.tokenizer)
        let n = tokens.count
        let terms = [SteeringTerm(layer: 6, vector: v1, multiplier: 3), SteeringTerm(layer: 6, vector: v2, multiplier: -2, positions: .last)]
        #expect(terms[0].intervention(start: start, length: n).positions == .from(start))
        #expect(terms[1].intervention(start: start, length: n).positions == .positions([n - 1]))
        func logits(_ interventions: [Intervention]) -> [Float] {
            var items = [ForwardItem(tokens: tokens, cache: model.network.makeCache(), interventions: interventions, logits: .all)]
            return model.network.forward(&items)[0].logits
        }
        let together = logits(terms.map { $0.intervention(start: start, length: n) })
        // The reference: 3·v1 alone from the start up to the second-last token, 3·v1 − 2·v2 as one vector on the last.
        let sum = zip(v1, v2).map { 3 * $0 - 2 * $1 }
        let reference = logits([.steer(layer: 6, vector: v1, multiplier: 3, positions: .positions(Array(start..<(n - 1)))),
                                .steer(layer: 6, vector: sum, multiplier: 1, positions: .positions([n - 1]))])
        let unsteered = logits([])
        let scale = reference.map { abs($0) }.max()!
        #expect(zip(together, reference).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "terms applied together = their sum where they overlap")
        #expect(zip(together, unsteered).contains { abs($0 - $1) > 1e-2 * scale }, "the steering changed the logits")
        // Only one term: differs from both on the last position.
        let first = logits([terms[0].intervention(start: start, length: n)])
        #expect(zip(first.suffix(model.network.config.vocabularySize), together.suffix(model.network.config.vocabularySize))
            .contains { abs($0 - $1) > 1e-3 * scale })

        // Through the A/B scorer: two terms on one block from the start equal one term with their summed vector.
        let scorer = try CAAABScorer(model: model.network, tokenizer: model.tokenizer)
        let prompt = CAAABScorer.Prompt(tokens: tokens, start: start, matching: "A")
        let scored = scorer.score([prompt], variants: [
            .init(terms: [SteeringTerm(layer: 6, vector: v1, multiplier: 3), SteeringTerm(layer: 6, vector: v2, multiplier: -2)]),
            .init(terms: [SteeringTerm(layer: 6, vector: sum, multiplier: 1)]),
            nil,
        ])[0]
        #expect(abs(scored[0]!.normalised - scored[1]!.normalised) < 1e-5 && abs(scored[0]!.a - scored[1]!.a) < 1e-5 * max(scored[1]!.a, 1e-6))
        #expect(abs(scored[0]!.normalised - scored[2]!.normalised) > 1e-4, "steering moved P(matching)")
        // The capture of the unsteered prefix is the residual over the question's tokens.
        let captured = scorer.score([prompt], variants: [nil], capturing: 6)
        var direct = [ForwardItem(tokens: Array(tokens[..<start]), cache: model.network.makeCache(), interventions: [.capture(.block(6))], logits: .none)]
        let rows = model.network.forward(&direct)[0].capture(at: .block(6))!.values
        #expect(captured.captures == [rows] && rows.count == start * width)
    }
}
