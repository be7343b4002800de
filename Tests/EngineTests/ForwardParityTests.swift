import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// The engine reproduces Hugging Face transformers (fp32, same GGUF) on every reference case.
@Suite(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
struct ForwardParityTests {
    /// HF hidden_states index → the engine's residual site.
    static func site(hfLayer L: Int, blocks: Int) -> ResidualSite {
        L == 0 ? .embeddings : (L == blocks ? .finalNorm : .block(L - 1))
    }

    func run(_ c: ReferenceCase, model: LlamaModel) -> ForwardOutput {
        var interventions = c.hidden.keys.sorted().map {
            Intervention.capture(Self.site(hfLayer: $0, blocks: model.config.blockCount), positions: .fromEnd([0]))
        }
        if let s = c.steer { interventions.insert(.steer(layer: s.layer, vector: s.vector, multiplier: s.multiplier), at: 0) }
        if let all = c.hiddenAll { interventions.append(.capture(.block(all.layer - 1))) }
        var items = [ForwardItem(tokens: c.tokenIDs, cache: model.makeCache(), interventions: interventions)]
        return model.forward(&items)[0]
    }

    @Test(arguments: ["capital", "chat_claim", "unicode", "code_digits", "hi", "long", "steered"])
    func lastLogitsAndHiddenStates(name: String) throws {
        let model = try #require(SharedModel.model)
        let c = try #require(ReferenceCase.named(name))
        let out = run(c, model: model)
        let logits = out.lastLogits
        #expect(Compare.maxAbs(logits, c.lastLogits) < 5e-3, "\(name): max |Δlogit|")
        #expect(Compare.topK(logits, 20) == c.top20, "\(name): top-20 order")
        for (L, reference) in c.hidden {
            let site = Self.site(hfLayer: L, blocks: model.config.blockCount)
            let captured = try #require(out.capture(at: site), "\(name): no capture at \(site)")
            let err = Compare.relativeL2(captured.values, reference)
            #expect(err < 1e-3, "\(name): hidden_states[\(L)] relative L2 error \(err)")
        }
        if let all = c.hiddenAll {
            let captured = try #require(out.captures.last { $0.site == .block(all.layer - 1) })
            #expect(captured.positions == Array(0..<c.tokenIDs.count))
            #expect(Compare.relativeL2(captured.values, all.values) < 1e-3, "\(name): block \(all.layer - 1) output at every position")
        }
    }

    @Test func raggedBatchMatchesSeparatePasses() throws {
        let model = try #require(SharedModel.model)
        let cases = ReferenceCase.all.filter { $0.steer == nil }
        var items = cases.map { ForwardItem(tokens: $0.tokenIDs, cache: model.makeCache()) }
        let batched = model.forward(&items)
        for (c, out) in zip(cases, batched) {
            #expect(Compare.maxAbs(out.lastLogits, c.lastLogits) < 5e-3, "\(c.name) in a batch")
        }
    }

    @Test(arguments: ["capital", "chat_claim", "steered"])
    func greedyContinuation(name: String) throws {
        let model = try #require(SharedModel.model)
        let c = try #require(ReferenceCase.named(name))
        let expected = try #require(c.greedy)
        var interventions = [Intervention]()
        if let s = c.steer { interventions.append(.steer(layer: s.layer, vector: s.vector, multiplier: s.multiplier)) }
        let result = model.generate([GenerationRequest(prompt: c.tokenIDs, interventions: interventions)],
                                    options: GenerationOptions(maxNewTokens: expected.count, stopTokens: [2]))[0]
        #expect(result.tokens == expected, "\(name): greedy continuation")
    }

    @Test func batchedGenerationMatchesSingle() throws {
        let model = try #require(SharedModel.model)
        let cases = ReferenceCase.all.filter { $0.greedy != nil }
        let requests = cases.map { c in
            GenerationRequest(prompt: c.tokenIDs, interventions: c.steer.map {
                [.steer(layer: $0.layer, vector: $0.vector, multiplier: $0.multiplier)] } ?? [])
        }
        let results = model.generate(requests, options: GenerationOptions(maxNewTokens: 20, stopTokens: [2]))
        for (c, r) in zip(cases, results) { #expect(r.tokens == c.greedy, "\(c.name) in a batch of \(cases.count)") }
    }

    @Test func incrementalDecodeMatchesFullPrefill() throws {
        let model = try #require(SharedModel.model)
        let c = try #require(ReferenceCase.named("long"))
        let split = c.tokenIDs.count - 3
        var items = [ForwardItem(tokens: Array(c.tokenIDs[..<split]), cache: model.makeCache(), logits: .none)]
        _ = model.forward(&items)
        for t in split..<c.tokenIDs.count {
            items[0].tokens = [c.tokenIDs[t]]
            items[0].logits = .last
            let out = model.forward(&items)[0]
            #expect(out.logitPositions == [t])
            if t == c.tokenIDs.count - 1 {
                #expect(Compare.maxAbs(out.lastLogits, c.lastLogits) < 5e-3)
            }
        }
    }

    @Test func prefixReuseFromAStoppedPassMatchesFullSteeredPass() throws {
        let model = try #require(SharedModel.model)
        let c = try #require(ReferenceCase.named("steered"))
        let s = try #require(c.steer)
        // Blocks 0...L once, then the steered remainder from the stored residual.
        var prefix = [ForwardItem(tokens: c.tokenIDs, cache: model.makeCache())]
        let stopped = model.forward(&prefix, blocks: 0..<(s.layer + 1))[0]
        var resumed = prefix
        resumed[0].interventions = [.steer(layer: s.layer, vector: s.vector, multiplier: s.multiplier)]
        let out = model.forward(&resumed, blocks: (s.layer + 1)..<model.config.blockCount,
                                residual: try #require(stopped.residual))[0]
        #expect(Compare.maxAbs(out.lastLogits, c.lastLogits) < 5e-3)
        #expect(resumed[0].cache.count == c.tokenIDs.count)
    }
}
