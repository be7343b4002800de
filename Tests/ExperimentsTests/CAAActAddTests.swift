import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// The measures and prompt rules of CAA (Panickssery et al.) and ActAdd (Turner et al.) against hand-computed cases
/// and the rules quoted in ../shared/datasets/{caa,actadd}/FORMAT.md.
@Suite struct CAARulesTests {
    static func items(_ json: String) throws -> BehaviourItems {
        try BehaviourItems.parse(Data(json.utf8), name: "t", source: "t.json", keys: .behaviour)
    }

    @Test func promptIsThePapersLlama2Form() {
        #expect(CAAPrompt.llama2(question: " Is it? \n\nChoices:\n (A) Yes\n (B) No\n", answer: "(A) ")
                == "[INST] Is it? \n\nChoices:\n (A) Yes\n (B) No [/INST] (A)")
        #expect(CAAPrompt.abScoring(question: "Q") == "[INST] Q [/INST] (")
        // The system block precedes [INST] (CAA's tokenize_llama_chat), it is not inside it.
        #expect(CAAPrompt.llama2(question: "Q", systemPrompt: "Be good.") == "<<SYS>>\nBe good.\n<</SYS>>\n\n[INST] Q [/INST]")
    }

    @Test func steeringStartsAtTheLastTokenOfTheLastMarker() throws {
        // A three-token marker [5, 6, 7] occurring twice: the last occurrence ends at index 7.
        #expect(try InstructionEnd.position(in: [1, 5, 6, 7, 9, 5, 6, 7, 3], marker: [5, 6, 7]) == 7)
        #expect(try InstructionEnd.position(in: [5, 6, 7], marker: [5, 6, 7]) == 2)
        #expect(try InstructionEnd.position(in: [4, 8], marker: [8]) == 1)
        // A partial marker at the end does not count; a missing marker is an error, not "steer everything".
        #expect(throws: InstructionEnd.NotFound.self) { try InstructionEnd.position(in: [1, 5, 6], marker: [5, 6, 7]) }
        #expect(throws: InstructionEnd.NotFound.self) { try InstructionEnd.position(in: [], marker: [1]) }
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func markerSpanningSeveralTokensOnARealTokenizer() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(contentsOf: Fixtures.defaultModel))
        let prompt = tokenizer.encode(CAAPrompt.abScoring(question: "Do you agree?\n\nChoices:\n (A) Yes\n (B) No"))
        // In the prompt "[/INST]" follows a space, so the marker is tokenized with it.
        let marker = tokenizer.encode(" " + CAAPrompt.instructionEnd, addBOS: false)
        #expect(marker.count > 1, "SmolLM2 splits \" [/INST]\" into several tokens: \(marker.map(tokenizer.piece))")
        let end = try InstructionEnd.position(in: prompt, marker: marker)
        #expect(tokenizer.decode(Array(prompt[...end])).hasSuffix("[/INST]"))
        #expect(tokenizer.decode(Array(prompt[(end + 1)...])) == " (")
        // Every question token lies before the start; only "]" of the marker and " (" are steered.
        #expect(end == prompt.count - 2)
    }

    @Test func matchingProbabilityIsTheDirectTwoTokenShare() {
        let logits: [Float] = [0.5, 2.0, -1.0, 1.25, 3.0]
        let z = logits.map { exp(Double($0)) }.reduce(0, +)
        let pa = exp(2.0) / z, pb = exp(1.25) / z
        let m = MatchingProbability(logits: logits[...], aToken: 1, bToken: 3, matching: "B")
        #expect(abs(m.a - pa) < 1e-12 && abs(m.b - pb) < 1e-12)
        #expect(abs(m.normalised - pb / (pa + pb)) < 1e-12)
        // The two-token share equals a softmax over the two logits alone.
        #expect(abs(m.normalised - 1 / (1 + exp(2.0 - 1.25))) < 1e-12)
        #expect(abs(m.abMass - (pa + pb)) < 1e-12)
        // Large logits stay finite (the softmax is shifted by the maximum).
        let big = MatchingProbability(logits: [1000, 999][...], aToken: 0, bToken: 1, matching: "A")
        #expect(abs(big.normalised - 1 / (1 + exp(-1.0))) < 1e-12)
    }

    @Test func itemsParseAndNonABItemsAreExcluded() throws {
        let set = try Self.items(#"""
        [{"question": "Q1\n (A) x\n (B) y", "answer_matching_behavior": "(A)", "answer_not_matching_behavior": "(B)"},
         {"question": "Q2\n (A) x\n (B) y\n (C) z", "answer_matching_behavior": " (C)", "answer_not_matching_behavior": "(A)"}]
        """#)
        #expect(set.items.map(\.matching) == ["A", "C"])
        #expect(set.abItems.items.map(\.index) == [0])
        #expect(set.abItems.excluded == 1)
    }

    @Test func anAnswerThatIsNotAChoiceNamesItemAndField() throws {
        func message(_ json: String) -> String {
            do { _ = try Self.items(json); return "no error" } catch { return "\(error)" }
        }
        let notOffered = message(#"[{"question": "Q\n (A) x\n (B) y", "answer_matching_behavior": "(D)", "answer_not_matching_behavior": "(B)"}]"#)
        #expect(notOffered.contains("t.json") && notOffered.contains("item 0") && notOffered.contains("answer_matching_behavior")
                && notOffered.contains("(D)"), "\(notOffered)")
        let notALetter = message(#"[{"question": "Q (A) (B)", "answer_matching_behavior": "(A)", "answer_not_matching_behavior": "yes"}, 1]"#)
        #expect(notALetter.contains("item 0") && notALetter.contains("answer_not_matching_behavior") && notALetter.contains("\"yes\""), "\(notALetter)")
        let same = message(#"[{"question": "Q (A) (B)", "answer_matching_behavior": "(A)", "answer_not_matching_behavior": "(A)"}]"#)
        #expect(same.contains("item 0") && same.contains("(A)"), "\(same)")
        let missing = message(#"[{"question": "Q (A) (B)", "answer_matching_behavior": "(A)"}]"#)
        #expect(missing.contains("answer_not_matching_behavior") && missing.contains("missing"), "\(missing)")
        #expect(message("{}").contains("a JSON list"))
    }

    static let behaviours = ["coordinate_other_ais": 360, "corrigible_neutral_hhh": 290, "hallucination": 1000,
                             "myopic_reward": 950, "survival_instinct": 903, "sycophancy": 1000, "refusal": 408]

    static var hasCAAData: Bool {
        guard let catalog = try? ScienceData.catalog() else { return false }
        return behaviours.keys.allSatisfy { name in
            (try? catalog.descriptor(named: "caa_" + name))?.files.allSatisfy {
                FileManager.default.fileExists(atPath: ScienceData.mirror.url(for: $0).path)
            } ?? false
        }
    }

    /// FORMAT.md's sizes: the generate sets, 50 A/B test items each, four survival-instinct items answering
    /// (C) or (E), 570 MMLU and 817 TruthfulQA side-effect items.
    @Test(.enabled(if: hasCAAData, "SKIPPED: the CAA files are not in the dataset mirror — run `reptune datasets fetch`"))
    func theSevenBehavioursAndTheSideEffectSetsLoad() throws {
        for (name, size) in Self.behaviours {
            let descriptor = try ScienceData.descriptor("caa_" + name)
            let generate = try BehaviourItems.load(descriptor, role: "generate", keys: .behaviour, from: ScienceData.mirror)
            #expect(generate.items.count == size, "\(name)")
            let test = try BehaviourItems.load(descriptor, role: "test a/b", keys: .behaviour, from: ScienceData.mirror)
            #expect(test.items.count == 50, "\(name)")
            #expect(test.abItems.excluded == (name == "survival_instinct" ? 4 : 0), "\(name)")
        }
        let mmlu = try BehaviourItems.load(ScienceData.descriptor("caa_mmlu"), role: "data", keys: .sideEffect, from: ScienceData.mirror)
        #expect(mmlu.items.count == 570 && mmlu.abItems.excluded == 0)
        let tqa = try BehaviourItems.load(ScienceData.descriptor("caa_truthfulqa"), role: "data", keys: .sideEffect, from: ScienceData.mirror)
        #expect(tqa.items.count == 817)
    }
}

@Suite struct ActAddRulesTests {
    /// FORMAT.md's rule: lowercase, `\W` → space, split, exact matches of the wedding list.
    @Test func weddingWordsAreCountedAsActAddCountsThem() {
        let w = TopicWords.wedding
        #expect(w.count(in: "The WEDDING was lovely; the bride and groom married.") == 4)
        #expect(w.count(in: "wedding-planner weddings' honeymoon!") == 3)       // "-" and "'" split words
        #expect(w.count(in: "weddingcake wedded marrying unmarried") == 0)       // exact words only
        #expect(w.count(in: "wed_ding wed") == 1)                               // "_" is a word character
        #expect(w.count(in: "") == 0)
        #expect(TopicWords.words(of: "Café—au lait, 2x") == ["café", "au", "lait", "2x"])
    }

    @Test func theShorterPromptIsRightPaddedWithThePadToken() throws {
        let pair = try ActAddPair(plusText: "Love", plusTokens: [50, 51, 52], minusText: "Hate", minusTokens: [60], pad: 9)
        #expect(pair.plus == [50, 51, 52] && pair.minus == [60, 9, 9])
        #expect(pair.length == 3 && pair.minusPadding == 2 && pair.plusPadding == 0)
        // " weddings" − "": the empty side is all padding.
        let topic = try ActAddPair(plusText: " weddings", plusTokens: [7, 8], minusText: "", minusTokens: [], pad: 9)
        #expect(topic.minus == [9, 9])
        // A leading neutral token goes before both (its difference is then zero at position 0).
        let led = try ActAddPair(plusText: " weddings", plusTokens: [7, 8], minusText: "", minusTokens: [], pad: 9, leading: 0)
        #expect(led.plus == [0, 7, 8] && led.minus == [0, 9, 9])
        #expect(throws: ActAddPair.Problem.self) {
            try ActAddPair(plusText: "", plusTokens: [], minusText: "", minusTokens: [], pad: 9)
        }
    }

    @Test func steeringIsThePerPositionScaledDifference() throws {
        let pair = try ActAddPair(plusText: "a", plusTokens: [1, 2], minusText: "b", minusTokens: [3], pad: 9)
        let hPlus: [Float] = [1, 2, 3, 4], hMinus: [Float] = [1, 0, -1, 4]
        #expect(pair.steering(plus: hPlus, minus: hMinus, width: 2, coefficient: 4) == [0, 8, 16, 0])
    }

    @Test func degenerationCountsRepeatedNGrams() throws {
        let d = Degeneration("the cat the cat the dog", n: 2)
        // bigrams: the cat, cat the, the cat, cat the, the dog → 5, of which 3 distinct.
        #expect(d.total == 5 && d.distinct == 3)
        #expect(abs(try #require(d.distinctRatio) - 0.6) < 1e-12)
        #expect(abs(try #require(d.repetitionRatio) - 0.4) < 1e-12)
        #expect(Degeneration("one", n: 2).distinctRatio == nil)
        #expect(Degeneration("A a b", n: 1).distinct == 2)
    }
}

/// The controls: CAA's normalisation, KL on neutral text, selection on a validation split.
@Suite struct SteeringControlsTests {
    @Test func normalisationGivesEveryBehaviourTheMeanNorm() {
        let out = BehaviourNormalisation.normalised(["a": [3, 4], "b": [0, 1], "c": [0, 0]])
        // Norms 5, 1, 0 → mean 2: a and b rescaled to norm 2, the zero vector stays zero.
        #expect(out["a"] == [1.2, 1.6])
        #expect(out["b"] == [0, 2])
        #expect(out["c"] == [0, 0])
    }

    @Test func klMatchesADirectComputation() {
        let base: [Float] = [1, 0, -1], steered: [Float] = [0, 0.5, 2]
        func softmax(_ v: [Float]) -> [Double] { let e = v.map { exp(Double($0)) }; let z = e.reduce(0, +); return e.map { $0 / z } }
        let p = softmax(base), q = softmax(steered)
        let direct = zip(p, q).reduce(0.0) { $0 + $1.0 * log($1.0 / $1.1) }
        #expect(abs(NextTokenKL.divergence(base: base[...], steered: steered[...]) - direct) < 1e-12)
        #expect(NextTokenKL.divergence(base: base[...], steered: base.map { $0 + 7 }[...]) < 1e-12)   // shift-invariant
        #expect(abs(NextTokenKL.mean(base: base + base, steered: steered + base, vocabulary: 3) - direct / 2) < 1e-12)
    }

    @Test func selectionTakesTheBestThenTheGentlest() throws {
        typealias C = ValidationSelection.Candidate
        let cells = [C(layer: 8, multiplier: 4, score: 0.7), C(layer: 6, multiplier: -2, score: 0.7),
                     C(layer: 4, multiplier: 2, score: 0.7), C(layer: 2, multiplier: 8, score: 0.5),
                     C(layer: 1, multiplier: 1, score: .nan)]
        let best = try #require(ValidationSelection(cells, goal: .maximise))
        #expect(best.chosen == C(layer: 4, multiplier: 2, score: 0.7))
        #expect(best.compared == 4)
        #expect(try #require(ValidationSelection(cells, goal: .minimise)).chosen.layer == 2)
        #expect(ValidationSelection([C(layer: 0, multiplier: 1, score: .infinity)], goal: .maximise) == nil)
    }
}

/// A judge's question for a CAA behaviour: `{behaviour}` becomes that behaviour's one-sentence description.
@Suite struct CAAJudgeQuestionTests {
    @Test func behaviourPlaceholderBecomesItsDescription() throws {
        let q = try CAASystemPrompts.question("Which answer fits better: {behaviour} 1 or 2?", behaviour: "sycophancy")
        #expect(q == "Which answer fits better: You agree with the user's views and tell them what they want to hear. 1 or 2?")
        #expect(try CAASystemPrompts.question("Which is more honest, 1 or 2?", behaviour: "nonexistent") == "Which is more honest, 1 or 2?")
        #expect(throws: CAASystemPrompts.UnknownBehaviour.self) { try CAASystemPrompts.question("{behaviour}?", behaviour: "nonexistent") }
    }
}
