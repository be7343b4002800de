import Engine
import Foundation
import Testing

/// The frequency penalty against a direct computation of TransformerLens's rule: logits ÷ temperature − penalty ×
/// count, then the nucleus and the draw.
@Suite struct FrequencyPenaltyTests {
    static func direct(_ logits: [Float], temperature: Double, penalty: Double, counts: [Int: Int]) -> [Double] {
        let adjusted = logits.indices.map { Double(logits[$0]) / temperature - penalty * Double(counts[$0] ?? 0) }
        let m = adjusted.max()!
        let e = adjusted.map { exp($0 - m) }, z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    @Test func aTinyNucleusPicksThePenalisedArgmax() {
        let logits: [Float] = [2.0, 1.9, 0.5, 1.0]
        // Token 0 seen once and token 1 never: with penalty 0.5 at temperature 1, 1.9 beats 2.0 − 0.5.
        for (penalty, seen, expected) in [(Float(0.5), [0], 1), (0.05, [0], 0), (1, [0, 0, 1, 1], 3), (0.3, [0, 0], 1)] {
            var sampler = Sampler(.random(temperature: 1, topP: 1e-6, seed: 3), frequencyPenalty: FrequencyPenalty(penalty))
            for t in seen { sampler.record(t) }
            let probs = Self.direct(logits, temperature: 1, penalty: Double(penalty), counts: Dictionary(seen.map { ($0, 1) }, uniquingKeysWith: +))
            #expect(probs.indices.max { probs[$0] < probs[$1] } == expected)
            #expect(sampler.next(logits[...]) == expected, "penalty \(penalty), seen \(seen)")
        }
    }

    @Test func thePenaltyComesAfterTheTemperature() {
        // Temperature 0.5 doubles the logits to 4.0 and 3.8. Penalty 0.15 after dividing: 3.85 > 3.8, token 0;
        // before dividing it would be (2.0 − 0.15) / 0.5 = 3.7 < 3.8, token 1.
        var after = Sampler(.random(temperature: 0.5, topP: 1e-6, seed: 1), frequencyPenalty: FrequencyPenalty(0.15))
        after.record(0)
        #expect(after.next([2.0, 1.9][...]) == 0)
    }

    @Test func drawsFollowTheDirectDistribution() {
        let logits: [Float] = [1.0, 0.2, 0.8, -0.5, 0.0]
        let counts = [0: 2, 2: 1]
        let expected = Self.direct(logits, temperature: 0.8, penalty: 0.4, counts: counts)
        var sampler = Sampler(.random(temperature: 0.8, topP: 1, seed: 11), frequencyPenalty: FrequencyPenalty(0.4))
        for (t, c) in counts { for _ in 0..<c { sampler.record(t) } }
        var seen = [Int](repeating: 0, count: logits.count)
        let n = 40_000
        for _ in 0..<n { seen[sampler.next(logits[...])] += 1 }
        // Each frequency within 4.5 standard errors of the direct probability (fixed seed: deterministic).
        for i in logits.indices {
            let p = expected[i], se = (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(Double(seen[i]) / Double(n) - p) < 4.5 * se, "token \(i): \(Double(seen[i]) / Double(n)) vs \(p)")
        }
    }

    @Test func withoutAPenaltyNothingChanges() {
        var plain = Sampler(.random(temperature: 0.7, topP: 0.9, seed: 5))
        var zero = Sampler(.random(temperature: 0.7, topP: 0.9, seed: 5), frequencyPenalty: FrequencyPenalty(0))
        zero.record(1)
        let logits: [Float] = [0.1, 0.9, 0.4, 0.3]
        for _ in 0..<200 { #expect(plain.next(logits[...]) == zero.next(logits[...])) }
        #expect(zero.count(of: 1) == 0)
    }

    @Test func greedyIgnoresThePenalty() {
        var greedy = Sampler(.greedy, frequencyPenalty: FrequencyPenalty(10))
        greedy.record(0)
        #expect(greedy.next([2.0, 1.0][...]) == 0)
    }
}

/// `generate` with a frequency penalty against the same decode written out step by step with a `Sampler`.
struct FrequencyPenaltyGenerationTests {
    @Test func generateCountsThePromptAndEachSampledToken() {
        let config = GradientCheckTests.tinyConfig()
        let model = LlamaModel.random(config: config, seed: 12)
        let prompt = [3, 3, 5, 1]
        let sampling = Sampling.random(temperature: 1, topP: 0.9, seed: 7)
        for penalty in [FrequencyPenalty(1.5, counted: .sequence), FrequencyPenalty(1.5, counted: .generated)] {
            let generated = model.generate([GenerationRequest(prompt: prompt)],
                                           options: GenerationOptions(maxNewTokens: 12, sampling: sampling, frequencyPenalty: penalty))[0]
            // By hand: one sequence, stream 0, the prompt counted or not, each sampled token counted.
            var sampler = Sampler(sampling, stream: 0, frequencyPenalty: penalty)
            if penalty.counted == .sequence { prompt.forEach { sampler.record($0) } }
            var items = [ForwardItem(tokens: prompt, cache: model.makeCache(), logits: .last)]
            var tokens: [Int] = []
            for _ in 0..<12 {
                let token = sampler.next(model.forward(&items)[0].lastLogits)
                sampler.record(token)
                tokens.append(token)
                items[0].tokens = [token]
            }
            #expect(generated.tokens == tokens, "\(penalty.counted)")
        }
        // The penalty changes the draws (same seed without it).
        let plain = model.generate([GenerationRequest(prompt: prompt)], options: GenerationOptions(maxNewTokens: 12, sampling: sampling))[0]
        let penalised = model.generate([GenerationRequest(prompt: prompt)],
                                       options: GenerationOptions(maxNewTokens: 12, sampling: sampling, frequencyPenalty: FrequencyPenalty(3)))[0]
        #expect(plain.tokens != penalised.tokens)
    }
}
