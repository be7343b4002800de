import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// Qwen2.5-Coder-0.5B-Instruct (Q/K/V biases, a separate output head, RoPE θ 1e6, q5_0/q8_0/q4_K/q6_K tensors)
/// against Hugging Face transformers on the same GGUF (fp32, `../shared/reference/qwen2.5-coder-0.5b-instruct/`),
/// under both weights policies.
///
/// - fp32: the reference's arithmetic: last-position logits within 5e-3, the same top 20 and greedy continuations,
///   residual streams within 1e-3 relative.
/// - native: the same weights, activations rounded to 8 bits per block of 32 in decode steps (prefill of a
///   prompt longer than `NativeMatMul.dotRowLimit` rows goes through decoded panels and sgemm, in fp32): the same
///   greedy continuations, and KL(reference ‖ engine) ≤ 1e-3 nats at every prompt's last position.
@Suite(.serialized, .enabled(if: Fixtures.hasQwen, Fixtures.noQwen))
struct QwenParityTests {
    static let cases: [ReferenceCase] = (try? ReferenceCase.load(Fixtures.qwenReference)) ?? []
    /// Loaded once each: the fp32 copy takes 2.5 GB, the native model reads the 469 MiB file in place.
    static let fp32: LanguageModel? = try? LanguageModel(gguf: Fixtures.qwenModel, weights: .fp32)
    static let native: LanguageModel? = try? LanguageModel(gguf: Fixtures.qwenModel, weights: .native)
    static let endOfTurn = 151645

    static func site(hfLayer L: Int, blocks: Int) -> ResidualSite {
        L == 0 ? .embeddings : (L == blocks ? .finalNorm : .block(L - 1))
    }

    func run(_ c: ReferenceCase, _ model: LlamaModel) -> ForwardOutput {
        var interventions = c.hidden.keys.sorted().map {
            Intervention.capture(Self.site(hfLayer: $0, blocks: model.config.blockCount), positions: .fromEnd([0]))
        }
        if let s = c.steer { interventions.insert(.steer(layer: s.layer, vector: s.vector, multiplier: s.multiplier), at: 0) }
        if let all = c.hiddenAll { interventions.append(.capture(.block(all.layer - 1))) }
        var items = [ForwardItem(tokens: c.tokenIDs, cache: model.makeCache(), interventions: interventions)]
        return model.forward(&items)[0]
    }

    func greedy(_ c: ReferenceCase, _ model: LlamaModel, tokens: Int) -> [Int] {
        let steer = c.steer.map { [Intervention.steer(layer: $0.layer, vector: $0.vector, multiplier: $0.multiplier)] } ?? []
        return model.generate([GenerationRequest(prompt: c.tokenIDs, interventions: steer)],
                              options: GenerationOptions(maxNewTokens: tokens, stopTokens: [Self.endOfTurn]))[0].tokens
    }

    /// KL(p ‖ q) in nats between the softmaxes of two logit vectors.
    static func kl(reference: [Float], engine: some Collection<Float>) -> Double {
        func logSoftmax(_ x: [Double]) -> [Double] {
            let m = x.max()!
            let lse = m + log(x.reduce(0) { $0 + exp($1 - m) })
            return x.map { $0 - lse }
        }
        let p = logSoftmax(reference.map(Double.init)), q = logSoftmax(engine.map(Double.init))
        return zip(p, q).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
    }

    @Test func referenceCasesAreLoaded() {
        #expect(Self.cases.map(\.name) == ["capital", "fact_paper", "unicode", "steered"])
        #expect(Self.fp32 != nil && Self.native != nil)
        #expect(Self.native?.network.weights.blocks.allSatisfy { b in b.projections.allSatisfy(\.isNative) } == true)
    }

    @Test func tokenizerGivesTheReferenceIDs() throws {
        let model = try #require(Self.native)
        for c in Self.cases {
            #expect(model.tokenizer.encode(c.text, parseSpecial: true) == c.tokenIDs, "\(c.name)")
        }
    }

    @Test(arguments: ["capital", "fact_paper", "unicode", "steered"])
    func fp32LogitsAndResidualStreams(name: String) throws {
        let model = try #require(Self.fp32).network
        let c = try #require(Self.cases.first { $0.name == name })
        let out = run(c, model)
        #expect(Compare.maxAbs(out.lastLogits, c.lastLogits) < 5e-3, "\(name): max |Δlogit|")
        #expect(Compare.topK(out.lastLogits, 20) == c.top20, "\(name): top-20 order")
        for (L, reference) in c.hidden {
            let site = Self.site(hfLayer: L, blocks: model.config.blockCount)
            let captured = try #require(out.capture(at: site), "\(name): no capture at \(site)")
            let error = Compare.relativeL2(captured.values, reference)
            #expect(error < 1e-3, "\(name): hidden_states[\(L)] relative L2 error \(error)")
        }
        if let all = c.hiddenAll {
            let captured = try #require(out.captures.last { $0.site == .block(all.layer - 1) })
            #expect(Compare.relativeL2(captured.values, all.values) < 1e-3, "\(name): hidden_states[\(all.layer)] at every position")
        }
    }

    @Test(arguments: ["capital", "fact_paper", "steered"])
    func fp32GreedyContinuations(name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let expected = try #require(c.greedy)
        #expect(greedy(c, try #require(Self.fp32).network, tokens: expected.count) == expected, "\(name)")
    }

    @Test(arguments: ["capital", "fact_paper", "unicode", "steered"])
    func nativeLastPositionKL(name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let out = run(c, try #require(Self.native).network)
        let kl = Self.kl(reference: c.lastLogits, engine: out.lastLogits)
        print("QwenParityTests: native KL(reference ‖ engine) at the last position of \(name): \(String(format: "%.2e", kl)) nats")
        #expect(kl <= 1e-3, "\(name): KL \(kl)")
        #expect(Compare.topK(out.lastLogits, 1) == [c.top20[0]], "\(name): arg-max")
    }

    @Test(arguments: ["capital", "fact_paper", "steered"])
    func nativeGreedyContinuations(name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let expected = try #require(c.greedy)
        #expect(greedy(c, try #require(Self.native).network, tokens: expected.count) == expected, "\(name)")
    }

    /// A decode step (one row: the dot path, 8-bit activations) against the reference's last position, by
    /// running the prompt but its last token, then that token alone.
    @Test(arguments: ["capital", "fact_paper", "steered"])
    func nativeDecodeStepKL(name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let model = try #require(Self.native).network
        let steer = c.steer.map { [Intervention.steer(layer: $0.layer, vector: $0.vector, multiplier: $0.multiplier)] } ?? []
        var items = [ForwardItem(tokens: Array(c.tokenIDs.dropLast()), cache: model.makeCache(), interventions: steer, logits: .none)]
        _ = model.forward(&items)
        items[0].tokens = [c.tokenIDs.last!]
        items[0].logits = .last
        let out = model.forward(&items)[0]
        let kl = Self.kl(reference: c.lastLogits, engine: out.lastLogits)
        print("QwenParityTests: native KL(reference ‖ engine) of a decode step at the last position of \(name): \(String(format: "%.2e", kl)) nats")
        #expect(kl <= 1e-3, "\(name): KL \(kl)")
    }
}
