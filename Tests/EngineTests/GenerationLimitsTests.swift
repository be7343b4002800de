import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// What generation does at the edges of its numbers (issue 22): a token budget far beyond the context, a budget
/// whose sum with the prompt would wrap, and activations that overflow fp32.
struct GenerationLimitsTests {
    static let config = GradientCheckTests.tinyConfig()   // context 32, vocabulary 23, width 8

    /// A budget of half of Int.max tokens used to reserve that many KV rows and abort the process (issue 22, case 1:
    /// "failed to allocate 768000049184 bytes"); now the reservation stops at the context, and so does the sequence.
    @Test func aHugeTokenBudgetStopsAtTheContext() {
        let model = LlamaModel.random(config: Self.config, seed: 3)
        #expect(model.cacheReserve(prompt: 5, newTokens: Int.max / 2) == Self.config.contextLength)
        #expect(model.cacheReserve(prompt: 5, newTokens: 7) == 12)
        #expect(model.cacheReserve(prompt: 40, newTokens: Int.max) == 40)
        let result = model.generate([GenerationRequest(prompt: [1, 2, 3, 4, 5])],
                                    options: GenerationOptions(maxNewTokens: Int.max / 2))[0]
        #expect(result.finishReason == .length)
        #expect(result.tokens.count == Self.config.contextLength - 5 + 1, "the last token is sampled from the full context")
    }

    /// `ids.count + maxNewTokens > limit` wrapped for budgets near Int.max (issue 22, case 2: `generate --max-tokens
    /// 9223372036854775807` never returned); the check no longer adds.
    @Test func aBudgetNearIntMaxIsRefusedNotWrapped() throws {
        let c = Self.config
        let model = LanguageModel(network: LlamaModel.random(config: c, seed: 3),
                                  tokenizer: try Tokenizer(vocabulary: TokenizerVocabulary(model: .sentencePiece, tokens: (0..<c.vocabularySize).map { "t\($0)" },
                                                                                           scores: [Float](repeating: 0, count: c.vocabularySize))),
                                  chatTemplate: nil, source: URL(fileURLWithPath: "/random"))
        for budget in [Int.max, Int.max - 1, Int.max - 3, c.contextLength] {
            #expect(throws: PromptError.self, "budget \(budget)") { try model.validate(prompt: [1, 2, 3], maxNewTokens: budget) }
        }
        try model.validate(prompt: [1, 2, 3], maxNewTokens: c.contextLength - 3)
    }

    /// A steering multiplier that overflows fp32 used to give "successful" empty generations (issue 22, case 6):
    /// an infinite multiplier makes the logits NaN, and a finite one large enough that the next RMSNorm's sum of
    /// squares overflows (‖m·v‖ > 1.8e19) collapses every later activation to zero. Either sequence now stops as
    /// `nonFinite`, while a sequence beside it in the batch goes on.
    @Test func overflowingActivationsEndTheSequenceAsNonFinite() {
        let model = LlamaModel.random(config: Self.config, seed: 4)
        let v = [Float](repeating: 1, count: Self.config.embeddingLength)   // ‖v‖ = √8
        let results = model.generate([
            GenerationRequest(prompt: [1, 2, 3], interventions: [.steer(layer: 1, vector: v, multiplier: .infinity)]),
            GenerationRequest(prompt: [1, 2, 3], interventions: [.steer(layer: 1, vector: v, multiplier: 1e19)]),
            GenerationRequest(prompt: [1, 2, 3], interventions: [.steer(layer: 1, vector: v, multiplier: 1)]),
        ], options: GenerationOptions(maxNewTokens: 4))
        #expect(results[0].finishReason == .nonFinite && results[0].tokens.isEmpty, "\(results[0])")
        #expect(results[1].finishReason == .nonFinite && results[1].tokens.isEmpty, "\(results[1])")
        #expect(results[2].finishReason == .length && results[2].tokens.count == 4, "\(results[2])")
        #expect(Intervention.steer(layer: 1, vector: v, multiplier: 6e18).overflowsFP32 == false)
        #expect(Intervention.steer(layer: 1, vector: v, multiplier: 7e18).overflowsFP32)   // √8 · 7e18 ≈ 1.98e19
    }
}

/// A control vector exported for llama.cpp, checked against the rules of llama.cpp's loader (`LlamaCppControlVectorRules`).
struct LlamaCppControlVectorTests {
    static func vectors(_ layers: ClosedRange<Int>, width: Int = 16) -> ControlVectorFile {
        ControlVectorFile(directions: Dictionary(uniqueKeysWithValues: layers.map { l in (l, (0..<width).map { Float(l * 100 + $0) }) }),
                          modelHint: "tiny")
    }

    /// reptune's vectors include block 0 (it can steer there); the file written for llama.cpp leaves it out and
    /// passes every rule, with the other directions unchanged. Issue 22, case 10: the export held `direction.0`.
    @Test func theExportPassesLlamaCppsLoaderRules() throws {
        let all = Self.vectors(0...5)
        let dir = try Fixtures.temporaryDirectory("cvec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ownFile = dir.appendingPathComponent("internal.gguf")
        try all.write(to: ownFile, layerCount: 6)
        #expect(try LlamaCppControlVectorRules.problems(ownFile, width: 16, blocks: 6) == ["direction.0: llama.cpp refuses the whole file"])

        let exported = try all.forLlamaCpp()
        #expect(exported.skipped == [0])
        let url = dir.appendingPathComponent("llama.gguf")
        try exported.file.write(to: url, layerCount: exported.file.directions.count)
        #expect(try LlamaCppControlVectorRules.problems(url, width: 16, blocks: 6) == [])
        let back = try ControlVectorFile(contentsOf: url)
        #expect(back.directions.keys.sorted() == [1, 2, 3, 4, 5])
        for l in 1...5 { #expect(back.directions[l] == all.directions[l]) }
        #expect(try GGUFFile(contentsOf: url).metadata["controlvector.layer_count"]?.int == 5)

        // Picked layers; block 0 asked for explicitly is refused with the reason, as is a layer the vectors lack.
        #expect(try all.forLlamaCpp(layers: [2, 4]).file.directions.keys.sorted() == [2, 4])
        #expect { try all.forLlamaCpp(layers: [0, 3]) } throws: { "\($0)".contains("numbers control-vector directions from 1") }
        #expect { try all.forLlamaCpp(layers: [9]) } throws: { "\($0)".contains("no direction for it") }
        #expect { try Self.vectors(0...0).forLlamaCpp() } throws: { "\($0)".contains("only block 0") }
    }

    /// A vector file of values fp32 cannot hold is refused when read, naming the value (issue 22, case 6: a `--steer`
    /// file of 1e308s ran "successfully").
    @Test func nonFiniteVectorValuesAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory("cvec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("v.json")
        try Data("[0.5, 1e308, 2]".utf8).write(to: json)
        #expect { try ControlVectorFile(contentsOf: json) } throws: { "\($0)".contains("value 1") && "\($0)".contains("not a finite fp32 number") }
        #expect { try ControlVectorFile(contentsOf: dir.appendingPathComponent("missing.json")) } throws: {
            "\($0)".contains("missing.json") && "\($0)".contains("no such file") && !"\($0)".contains("NSCocoaErrorDomain")
        }
    }
}
