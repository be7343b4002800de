import Engine
import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// A sweep with prefix reuse gives exactly the generations of the same sweep run prompt-by-prompt.
@Suite(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
struct SteeringSweepTests {
    @Test func prefixReuseChangesNothingButTheWork() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.reference.appendingPathComponent("prompts.json"))) as! [String: Any]
        let steered = (json["prompts"] as! [[String: Any]]).first { $0["name"] as? String == "steered" }!
        let vector = ((steered["steer"] as! [String: Any])["vector"] as! [NSNumber]).map(\.floatValue)
        let prompt = (steered["token_ids"] as! [NSNumber]).map(\.intValue)
        let layers = [3, 10, 29]
        let variants: [SteeringVariant] = [.multiplier(-30), .multiplier(0), .multiplier(30), .zeroOut]
        let options = GenerationOptions(maxNewTokens: 6)
        let vectors = Dictionary(uniqueKeysWithValues: layers.map { ($0, vector) })
        let reused = SteeringSweep(model: model.network, vectors: vectors, variants: variants, options: options).run(prompt: prompt, layers: layers)
        let plain = SteeringSweep(model: model.network, vectors: vectors, variants: variants, options: options, reusePrefix: false)
            .run(prompt: prompt, layers: layers)
        for l in layers { #expect(reused[l] == plain[l], "layer \(l)") }
        // m = 0 is the unsteered continuation; the reference's own steered case (layer 10, m = 8) matches generate().
        let base = model.network.generate([GenerationRequest(prompt: prompt)], options: options)[0]
        #expect(reused[10]![1] == base)
        #expect(reused[3]![0] != reused[3]![2], "±30 at block 3 should change the continuation")
        let reference = SteeringSweep(model: model.network, vectors: [10: vector], variants: [.multiplier(8)],
                                      options: GenerationOptions(maxNewTokens: 20)).run(prompt: prompt, layers: [10])
        #expect(reference[10]![0].tokens == (steered["greedy_continuation_ids"] as! [NSNumber]).map(\.intValue))
    }

    @Test func batchedPromptsEqualOnePromptAtATime() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let texts = ["The capital of France is", "Water boils at", "My favourite colour is blue because it"]
        let prompts = texts.map { model.tokenizer.encode($0) }
        var g = SeededGenerator(seed: 4)
        let vector = (0..<model.network.config.embeddingLength).map { _ in g.nextUnit() - 0.5 }
        let variants: [SteeringVariant] = [.multiplier(-12), .multiplier(12), .zeroOut]
        let sweep = SteeringSweep(model: model.network, vectors: [12: vector], variants: variants,
                                  options: GenerationOptions(maxNewTokens: 5, keepFirstLogits: true))
        let batched = sweep.run(prompts: prompts, layer: 12)
        #expect(batched.count == 3 && batched.allSatisfy { $0.count == 3 })
        for (p, prompt) in prompts.enumerated() {
            let single = sweep.run(prompt: prompt, layers: [12])[12]!
            for v in variants.indices {
                #expect(batched[p][v].tokens == single[v].tokens, "prompt \(p) variant \(v)")
                let a = batched[p][v].firstLogits!, b = single[v].firstLogits!
                #expect(zip(a, b).map { abs($0 - $1) }.max()! < 1e-3, "prompt \(p) variant \(v) first logits")
            }
        }
        var plain = sweep
        plain.reusePrefix = false
        #expect(plain.run(prompts: prompts, layer: 12).map { $0.map(\.tokens) } == batched.map { $0.map(\.tokens) })
    }
}
