import Engine
import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// METHOD.md §5 training data on SmolLM2's real tokenizer and chat template: labels per objective, cosine targets,
/// balanced batches in a seed-fixed order.
@Suite(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct TuningExamplesTests {
    static let gguf = try! GGUFFile(contentsOf: Fixtures.defaultModel)
    static let tokenizer = try! Tokenizer(gguf: gguf)
    static let template = ChatTemplate.detect(gguf: gguf)!

    static func trainingPairs() throws -> [(true: TrueFalseStatement, false: TrueFalseStatement)] {
        let facts = try TrueFalseStatements.load(ScienceData.descriptor("facts_true_false"), from: ScienceData.mirror)
        let split = try FactsTuningSplit.load(from: FactsTuningSplit.defaultURL(descriptorDirectory: ScienceData.descriptorDirectory))
        return try split.trainingPairs(facts)
    }

    static func builder(_ objective: TuningObjective, layers: [Int] = [], vectors: [Int: [Float]] = [:]) throws -> TuningExampleBuilder {
        try TuningExampleBuilder(tokenizer: tokenizer, template: template, objective: objective, lossLayers: layers,
                                 probePosition: -7, vectors: vectors)
    }

    func token(_ text: String) -> Int {
        let ids = Self.tokenizer.encode(text, addBOS: false, parseSpecial: false)
        precondition(ids.count == 1)
        return ids[0]
    }

    @Test func labelsFollowTheObjective() throws {
        let pair = try #require(try Self.trainingPairs().first)
        let a = token("A"), b = token("B")
        func target(_ o: TuningObjective, _ s: TrueFalseStatement) throws -> [TokenTarget.TokenProbability] {
            let e = try Self.builder(o).example(s)
            #expect(e.sequence.tokenTargets.count == 1 && e.sequence.tokenTargets[0].position == e.lastPromptIndex)
            return e.sequence.tokenTargets[0].distribution
        }
        #expect(try target(.truth, pair.true) == [.init(token: a, probability: 1)])
        #expect(try target(.truth, pair.false) == [.init(token: b, probability: 1)])
        #expect(try target(.lie, pair.true) == [.init(token: b, probability: 1)])
        #expect(try target(.lie, pair.false) == [.init(token: a, probability: 1)])
        #expect(try target(.softTarget, pair.true) == [.init(token: a, probability: 0.5), .init(token: b, probability: 0.5)])
        #expect(try target(.softTarget, pair.false) == [.init(token: a, probability: 0.5), .init(token: b, probability: 0.5)])

        // The sequence is the rendered evaluation prompt, ending where the assistant's answer starts.
        let e = try Self.builder(.truth).example(pair.true)
        let text = Self.tokenizer.decode(e.sequence.tokens)
        #expect(text.hasPrefix("<|im_start|>system\nOutput only the letter corresponding to your choice.<|im_end|>\n<|im_start|>user\nQuestion: Is the following claim true or false? \""))
        #expect(text.hasSuffix("\n\nChoices:\n A) True\n B) False\n\nAnswer:<|im_end|>\n<|im_start|>assistant\n"))
        #expect(text.contains(FactsPrompts.stripQuotes(pair.true.text)))
        #expect(e.sequence.cosineTargets.isEmpty)
    }

    @Test func cosineTargetsSitAtTheProbePositionOfEveryLossLayer() throws {
        let pair = try #require(try Self.trainingPairs().first)
        let layers = [8, 9, 10]
        let vectors = Dictionary(uniqueKeysWithValues: layers.map { l in (l, (0..<576).map { Float(($0 * (l + 3)) % 7) - 3 }) })
        let honesty = try Self.builder(.honesty, layers: layers, vectors: vectors).example(pair.false)
        #expect(honesty.sequence.tokenTargets[0].distribution == [.init(token: token("B"), probability: 1)])
        #expect(honesty.sequence.cosineTargets.map(\.layer) == layers)
        #expect(honesty.sequence.cosineTargets.allSatisfy { $0.position == honesty.lastPromptIndex - 7 && $0.mode == .tuneIn })
        #expect(honesty.sequence.cosineTargets[1].vector == vectors[9]!)
        // In SmolLM2's ChatML prompt −7 is "Answer"; the paper's token (a newline of "\n\nAnswer:") is at −8.
        let tail = honesty.sequence.tokens.suffix(9).map { Self.tokenizer.decode([$0]) }
        #expect(tail == ["\n", "Answer", ":", "<|im_end|>", "\n", "<|im_start|>", "ass", "istant", "\n"])

        let dishonesty = try Self.builder(.dishonesty, layers: layers, vectors: vectors).example(pair.false)
        #expect(dishonesty.sequence.tokenTargets[0].distribution == [.init(token: token("A"), probability: 1)])
        #expect(dishonesty.sequence.cosineTargets[2].vector == vectors[10]!.map { -$0 })
        let out = try Self.builder(.tuneOut, layers: layers, vectors: vectors).example(pair.true)
        #expect(out.sequence.cosineTargets.allSatisfy { $0.mode == .tuneOut })
        #expect(out.sequence.cosineTargets[0].vector == vectors[8]!)
    }

    @Test func batchesAreBalancedCoverEveryPairPerEpochAndFollowTheSeed() throws {
        let statementPairs = try Self.trainingPairs()
        let layers = [5, 6]
        let vectors = Dictionary(uniqueKeysWithValues: layers.map { ($0, [Float](repeating: 1, count: 576)) })
        let pairs = try Self.builder(.honesty, layers: layers, vectors: vectors).pairs(statementPairs)
        let a = token("A"), b = token("B")
        let batches = try TuningBatches.training(pairs, batchSize: 4, epochs: 3, seed: 0)
        #expect(batches.count == 3 * 122)
        for batch in batches {
            let letters = batch.map { $0.tokenTargets[0].distribution[0].token }
            #expect(letters.filter { $0 == a }.count == 2 && letters.filter { $0 == b }.count == 2)
            #expect(batch.allSatisfy { $0.cosineTargets.allSatisfy { $0.weight == 1 / Float(4 * layers.count) } })
        }
        // Every epoch uses each pair once.
        let all = pairs.map(\.true.sequence.tokens) + pairs.map(\.false.sequence.tokens)
        for epoch in 0..<3 {
            let used = batches[epoch * 122..<(epoch + 1) * 122].flatMap { $0.map(\.tokens) }
            #expect(used.sorted { $0.lexicographicallyPrecedes($1) } == all.sorted { $0.lexicographicallyPrecedes($1) })
        }
        // The order is a function of the seed: pinned for seed 0 (xoshiro256** via SplitMix64, Fisher–Yates).
        let orders = TuningBatches.epochOrders(pairCount: 244, epochs: 2, seed: 0)
        #expect(Array(orders[0].prefix(6)) == TuningOrderPin.seed0Epoch0)
        #expect(orders[0] != orders[1])
        #expect(batches[0][0].tokens == pairs[orders[0][0]].true.sequence.tokens)
        #expect(batches[0][1].tokens == pairs[orders[0][0]].false.sequence.tokens)
        #expect(batches[0][2].tokens == pairs[orders[0][1]].true.sequence.tokens)
        #expect(try TuningBatches.training(pairs, batchSize: 4, epochs: 3, seed: 0) == batches)
        let other = try TuningBatches.training(pairs, batchSize: 4, epochs: 3, seed: 1)
        #expect(other != batches)
        #expect(TuningBatches.fingerprint(other) != TuningBatches.fingerprint(batches))
        #expect(TuningBatches.fingerprint(try TuningBatches.training(pairs, batchSize: 4, epochs: 3, seed: 0)) == TuningBatches.fingerprint(batches))
        // Validation batches keep the pairs' order.
        let validation = try TuningBatches.validation(pairs, batchSize: 2)
        #expect(validation.count == 244 && validation[3].map(\.tokens) == [pairs[3].true.sequence.tokens, pairs[3].false.sequence.tokens])
    }

    @Test func badSettingsNameTheField() throws {
        let pairs = try Self.builder(.truth).pairs(Array(try Self.trainingPairs().prefix(2)))
        #expect(throws: TuningDataError(field: "batch_size", "expected an even number ≥ 2 (each batch holds whole true/false pairs), found 3")) {
            try TuningBatches.training(pairs, batchSize: 3, epochs: 1, seed: 0)
        }
        do {
            _ = try Self.builder(.honesty, layers: [4, 5], vectors: [4: [1]])
            Issue.record("missing vector layer accepted")
        } catch let e as TuningDataError {
            #expect(e.field == "vector" && e.message.contains("[5]"))
        }
        #expect(throws: TuningDataError.self) {
            try TuningExampleBuilder(tokenizer: Self.tokenizer, template: Self.template, objective: .truth, probePosition: 2)
        }
        let short = TrueFalseStatement(text: "x", isTrue: true, row: 0)
        do {
            _ = try TuningExampleBuilder(tokenizer: Self.tokenizer, template: Self.template, objective: .honesty, lossLayers: [1],
                                         probePosition: -500, vectors: [1: [1]]).example(short)
            Issue.record("a probe before the first token was accepted")
        } catch let e as TuningDataError {
            #expect(e.field == "probe_position")
        }
    }

    @Test func statementsArePairedInOrder() {
        let s = [TrueFalseStatement(text: "a", isTrue: true, row: 0), TrueFalseStatement(text: "b", isTrue: false, row: 1),
                 TrueFalseStatement(text: "c", isTrue: false, row: 2), TrueFalseStatement(text: "d", isTrue: true, row: 3),
                 TrueFalseStatement(text: "e", isTrue: false, row: 4)]
        let p = TuningStatementPairs(s)
        #expect(p.pairs.map { [$0.true.row, $0.false.row] } == [[0, 1], [3, 2]])
        #expect(p.unpaired == 1)
    }
}

/// The first pair indices of epoch 0 for seed 0 over 244 pairs, recorded once; a change of generator or shuffle
/// changes every seed's batch order and must be deliberate.
enum TuningOrderPin {
    static let seed0Epoch0 = [181, 37, 32, 41, 133, 5]
}
