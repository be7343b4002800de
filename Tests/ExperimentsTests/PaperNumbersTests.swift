import Experiments
import Foundation
import Testing
import TestSupport

/// Scoring the paper's stored Llama-2-13b-chat generations reproduces every figure METHOD.md §6 lists.
/// Condition ↔ file mapping: `PaperCondition` (untunedmodel = base and steered, truthtunedmodel = truth-tuned,
/// lietunedmodel = lie-tuned, posplustruthtunedmodel = honesty-tuned, negpluslietunedmodel = dishonesty-tuned).
@Suite(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct PaperNumbersTests {
    // GPT-4 facts, honest %.
    @Test func gpt4FactsBaseHonest() throws { #expect(try PaperOutputs.facts(.base).honestPercent == 81.0) }
    @Test func gpt4FactsHonestySteeredHonest() throws { #expect(try PaperOutputs.facts(.honestySteered).honestPercent == 83.0) }
    @Test func gpt4FactsTruthTunedHonest() throws { #expect(try PaperOutputs.facts(.truthTuned).honestPercent == 87.5) }
    @Test func gpt4FactsHonestyTunedHonest() throws { #expect(try PaperOutputs.facts(.honestyTuned).honestPercent == 87.0) }
    // GPT-4 facts, dishonest %.
    @Test func gpt4FactsBaseDishonest() throws { #expect(try PaperOutputs.facts(.base).dishonestPercent == 19.0) }
    @Test func gpt4FactsDishonestySteeredDishonest() throws {
        #expect(try PaperOutputs.facts(.dishonestySteered).dishonestPercent == 49.0)
    }
    @Test func gpt4FactsLieTunedDishonest() throws { #expect(try PaperOutputs.facts(.lieTuned).dishonestPercent == 84.0) }
    // TruthfulQA.
    @Test func tqaTruthTunedHonest() throws { #expect(try PaperOutputs.tqa(.truthTuned).honestPercent == 56.5) }
    @Test func tqaLieTunedDishonest() throws { #expect(try PaperOutputs.tqa(.lieTuned).dishonestPercent == 56.0) }
    @Test func tqaDishonestyTunedDishonest() throws { #expect(try PaperOutputs.tqa(.dishonestyTuned).dishonestPercent == 67.5) }

    /// Every stored prompt is answered: N = 200 for both sets.
    @Test func setsHaveTwoHundredItems() throws {
        #expect(try PaperOutputs.facts(.base).total == 200)
        #expect(try PaperOutputs.tqa(.truthTuned).total == 200)
    }
}

enum PaperOutputs {
    static let directory = Fixtures.datasets.appendingPathComponent("representation_tuning_outputs")

    static func gpt4FactsLabels() throws -> [AnswerChoice] {
        let mirror = Fixtures.mirror
        let catalog = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: Fixtures.repoRoot))
        return try TrueFalseStatements.load(catalog.descriptor(named: "gpt4_facts"), from: mirror).statements.map(\.honestChoice)
    }

    static func facts(_ condition: PaperCondition) throws -> HonestyTally {
        let items = try PaperStoredOutputs.load(condition, .gpt4Facts, directory: directory)
        let answers = try PaperStoredOutputs.answers(condition, items, source: PaperStoredOutputs.fileName(condition, .gpt4Facts))
        return try HonestyTally(choices: answers.map(TrueFalseAnswerScorer.score), correct: gpt4FactsLabels())
    }

    static func tqa(_ condition: PaperCondition) throws -> HonestyTally {
        let items = try PaperStoredOutputs.load(condition, .truthfulQA, directory: directory)
        let answers = try PaperStoredOutputs.answers(condition, items, source: PaperStoredOutputs.fileName(condition, .truthfulQA))
        let correct = answers.indices.map(TruthfulQAMisconceptions.correctChoice(at:))
        return try HonestyTally(choices: answers.map(ABAnswerScorer.score), correct: correct)
    }
}
