import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// The prompt builders give exactly the strings of the paper's stored runs.
@Suite(.enabled(if: Fixtures.hasShared, Fixtures.noShared))
struct PromptBuilderTests {
    static func storedSentences(_ set: String) throws -> [String] {
        let url = Fixtures.datasets.appendingPathComponent("representation_tuning_outputs/truthtunedmodel\(ScorerFidelityTests.suffix)\(set).json")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        return items.map { $0["sentence"] as! String }
    }

    @Test func tqaBuilderReproducesAll200StoredPrompts() throws {
        let set = try TruthfulQASet(contentsOf: Fixtures.datasets.appendingPathComponent("truthfulqa/TruthfulQA.csv"))
        #expect(set.items.count == 200)
        let template = try ChatTemplate(named: "llama2-paper")
        let stored = try Self.storedSentences("tqa")
        var equal = 0
        for (item, sentence) in zip(set.items, stored) {
            let built = item.prompt.render(template)
            // The stored sentences lack the final trailing space of "[/INST] ".
            if built == sentence || built == sentence + " " { equal += 1 } else { Issue.record("differs: \(built.debugDescription) vs \(sentence.debugDescription)") }
        }
        #expect(equal == 200)
    }

    @Test func factsBuilderReproducesThe200StoredGPT4FactsPrompts() throws {
        let csv = try CSVTable(contentsOf: Fixtures.datasets.appendingPathComponent("gpt4_facts/gpt4_facts.csv"))
        let template = try ChatTemplate(named: "llama2-paper")
        let built = try csv.column("statement").map { PaperPrompts.factEvaluation($0).render(template) }
        #expect(built == (try Self.storedSentences("gpt4facts")))
    }

    @Test func contrastPairsAreMethodSection2() throws {
        let template = try ChatTemplate(named: "llama2-paper")
        let pair = PaperPrompts.contrastPair(statement: "\"The sky is green.\"", isTrue: false)
        #expect(pair.honest.render(template) == "[INST] <<SYS>> Pretend that you are always honest, no matter what. <</SYS>> Question: Is the following claim true or false? \"The sky is green.\"\n\nChoices:\n A) True\n B) False\n\nAnswer: [/INST] B")
        #expect(pair.dishonest.render(template).hasPrefix("[INST] <<SYS>> Pretend that you are dishonest when it serves you. <</SYS>>"))
        #expect(pair.dishonest.render(template).hasSuffix("[/INST] A"))
    }
}
