import Engine
import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// CAA's operators on SmolLM2 against direct computations: the A/B scorer's shared unsteered prefix against whole
/// prompts steered with `PositionSelector.from(start)`, its probabilities against a softmax of the full logits, the
/// vector builder against captures taken one sequence at a time, and the chat template's multi-token marker.
@Suite(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
struct CAAOperatorTests {
    static let questions = [
        "Do you agree that the sky is green?\n\nChoices:\n (A) Yes\n (B) No",
        "Would you rather have one apple now or two tomorrow?\n\nChoices:\n (A) One now\n (B) Two tomorrow",
    ]

    @Test func chatTemplateMarkerSpansSeveralTokensAndStartsSteeringAtItsEnd() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let format = CAAPromptFormat.chat(ChatTemplate(format: .chatml))
        let marker = format.marker(tokenizer: model.tokenizer)
        // "<|im_start|>assistant\n": the special token, "ass", "istant" and the newline.
        #expect(marker.map(model.tokenizer.piece) == ["<|im_start|>", "ass", "istant", "\n"])
        let tokens = format.tokens(question: Self.questions[0], answer: "(", systemPrompt: "Be brief.", tokenizer: model.tokenizer)
        let start = try format.steeringStart(in: tokens, tokenizer: model.tokenizer)
        #expect(Array(tokens[(start - 3)...start]) == marker)
        #expect(model.tokenizer.decode(Array(tokens[(start + 1)...])) == "(")
        // The user's question lies wholly before the start.
        #expect(model.tokenizer.decode(Array(tokens[...start])).hasSuffix("No<|im_end|>\n<|im_start|>assistant\n"))
        // A prompt without the marker is an error, never "steer everything".
        #expect(throws: InstructionEnd.NotFound.self) {
            try format.steeringStart(in: model.tokenizer.encode("no marker here"), tokenizer: model.tokenizer)
        }
    }

    @Test func sharedPrefixScoringEqualsWholePromptsSteeredFromTheInstructionEnd() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let scorer = try CAAABScorer(model: model.network, tokenizer: model.tokenizer)
        #expect(model.tokenizer.decode([scorer.aToken]) == "A" && model.tokenizer.decode([scorer.bToken]) == "B")
        var g = SeededGenerator(seed: 11)
        let vector = (0..<model.network.config.embeddingLength).map { _ in g.nextUnit() - 0.5 }
        let variants: [CAAABScorer.Steering?] = [nil, .init(layer: 4, vector: vector, multiplier: 6), .init(layer: 12, vector: vector, multiplier: -9)]
        let prompts = try Self.questions.enumerated().map { i, q in
            let tokens = CAAPromptFormat.llama2Paper.tokens(question: q, answer: "(", systemPrompt: nil, tokenizer: model.tokenizer)
            return CAAABScorer.Prompt(tokens: tokens, start: try CAAPromptFormat.llama2Paper.steeringStart(in: tokens, tokenizer: model.tokenizer),
                                      matching: i == 0 ? "B" : "A")
        }
        let scored = scorer.score(prompts, variants: variants)
        for (i, prompt) in prompts.enumerated() {
            for (v, steering) in variants.enumerated() {
                var whole = [ForwardItem(tokens: prompt.tokens, cache: model.network.makeCache(),
                                         interventions: steering.map { s in s.terms.map { .steer(layer: $0.layer, vector: $0.vector, multiplier: $0.multiplier,
                                                                                                  positions: .from(prompt.start)) } } ?? [])]
                let logits = model.network.forward(&whole)[0].lastLogits
                // The direct two-token share from the full softmax.
                let top = Double(logits.max()!)
                let z = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
                let pa = exp(Double(logits[scorer.aToken]) - top) / z, pb = exp(Double(logits[scorer.bToken]) - top) / z
                let got = try #require(scored[i][v])
                #expect(abs(got.a - pa) < 1e-4 * max(pa, 1e-6) + 1e-9, "prompt \(i) variant \(v): \(got.a) vs \(pa)")
                #expect(abs(got.b - pb) < 1e-4 * max(pb, 1e-6) + 1e-9, "prompt \(i) variant \(v)")
                let matching = prompt.matching == "A" ? pa : pb
                #expect(abs(got.normalised - matching / (pa + pb)) < 1e-4, "prompt \(i) variant \(v)")
            }
        }
        // Steering changes the answer distribution; the unsteered variant does not depend on the others (up to the
        // summation order of a differently sized batch).
        #expect(scored[0][1]!.a != scored[0][0]!.a)
        #expect(abs(scorer.score([prompts[0]], variants: [nil])[0][0]!.normalised - scored[0][0]!.normalised) < 1e-5)
        // A multiplier whose vector overflows fp32 gives no probabilities rather than non-finite ones.
        #expect(scorer.score([prompts[0]], variants: [.init(layer: 4, vector: vector, multiplier: 3e38)])[0][0] == nil)
    }

    @Test func vectorIsTheMeanDifferenceAtTheAnswerLetter() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let layers = [2, 7]
        let pairs = Self.questions.map { q in
            (positive: CAAPromptFormat.llama2Paper.tokens(question: q, answer: "(A)", systemPrompt: nil, tokenizer: model.tokenizer),
             negative: CAAPromptFormat.llama2Paper.tokens(question: q, answer: "(B)", systemPrompt: nil, tokenizer: model.tokenizer))
        }
        // Token −2 is the letter: ")" ends the prompt.
        #expect(model.tokenizer.decode([pairs[0].positive[pairs[0].positive.count - 2]]) == "A")
        #expect(model.tokenizer.decode([pairs[0].negative.last!]) == ")")
        var sums = CAAVectorBuilder.Sums(count: 0, difference: [:])
        try CAAVectorBuilder(model: model.network, layers: layers, batchSize: 1).accumulate(pairs, into: &sums)
        #expect(sums.count == 2)
        // By hand: each sequence alone, every position captured, the row at count − 2 read.
        func row(_ tokens: [Int], _ layer: Int) -> [Float] {
            var item = [ForwardItem(tokens: tokens, cache: model.network.makeCache(), interventions: [.capture(.block(layer))])]
            return Array(model.network.forward(&item)[0].captures[0].row(at: tokens.count - 2)!)
        }
        for layer in layers {
            var expected = [Double](repeating: 0, count: model.network.config.embeddingLength)
            for (p, n) in pairs {
                let a = row(p, layer), b = row(n, layer)
                for j in expected.indices { expected[j] += (Double(a[j]) - Double(b[j])) / 2 }
            }
            let got = sums.mean[layer]!
            let scale = expected.map(abs).max()!
            #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) <= 1e-4 * scale }, "layer \(layer)")
        }
    }

    @Test func layerChoiceTakesTheLargestMeanEffectOverBehaviours() {
        typealias O = CAALayerChoice.Observation
        let observations = [
            // Layer 3: effects 0.2 and 0.0 → 0.1; layer 5: 0.1 and 0.3 → 0.2; layer 7 lacks a negative multiplier.
            O(behaviour: "a", layer: 3, multiplier: -1, pMatching: 0.4), O(behaviour: "a", layer: 3, multiplier: 1, pMatching: 0.6),
            O(behaviour: "b", layer: 3, multiplier: -1, pMatching: 0.5), O(behaviour: "b", layer: 3, multiplier: 1, pMatching: 0.5),
            O(behaviour: "a", layer: 5, multiplier: -1, pMatching: 0.45), O(behaviour: "a", layer: 5, multiplier: 1, pMatching: 0.55),
            O(behaviour: "b", layer: 5, multiplier: -1, pMatching: 0.35), O(behaviour: "b", layer: 5, multiplier: 1, pMatching: 0.65),
            O(behaviour: "a", layer: 7, multiplier: 1, pMatching: 0.99), O(behaviour: "b", layer: 7, multiplier: 1, pMatching: 0.99),
        ]
        let candidates = CAALayerChoice.candidates(observations)
        #expect(candidates.map(\.layer) == [3, 5])
        #expect(abs(candidates[0].score - 0.1) < 1e-12 && abs(candidates[1].score - 0.2) < 1e-12)
        let choice = CAALayerChoice.choose(observations)
        #expect(choice?.chosen.layer == 5 && choice?.compared == 2)
        #expect(CAALayerChoice.choose(Array(observations.suffix(2))) == nil)
    }

    @Test func systemPromptsExistForTheSevenBehavioursAndAnUnknownOneIsNamed() throws {
        for name in ["coordinate-other-ais", "corrigible_neutral_hhh", "caa_hallucination", "myopic_reward", "survival_instinct", "sycophancy", "refusal"] {
            #expect(try CAASystemPrompts.text(.pos, behaviour: name) != CAASystemPrompts.text(.neg, behaviour: name))
        }
        #expect(try CAASystemPrompts.text(.none, behaviour: "anything") == nil)
        #expect(throws: CAASystemPrompts.UnknownBehaviour.self) { try CAASystemPrompts.text(.pos, behaviour: "kindness") }
    }
}
