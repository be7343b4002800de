import Engine
import Foundation
import ModelFormats

/// Times a layers × multipliers × prompts steering sweep with prefix reuse and without, in one run, on prompts
/// given by the caller (the GPT-4-facts evaluation prompts in `reptune bench --sweep`).
public struct SweepBenchmark: Sendable {
    public var model: LlamaModel
    public var prompts: [[Int]]
    public var layers: [Int]
    public var multipliers: [Float]
    public var maxNewTokens: Int

    public init(model: LlamaModel, prompts: [[Int]], layers: [Int], multipliers: [Float], maxNewTokens: Int = 4) {
        self.model = model
        self.prompts = prompts
        self.layers = layers
        self.multipliers = multipliers
        self.maxNewTokens = maxNewTokens
    }

    /// Wall time in seconds of the whole sweep, and whether both runs generated the same tokens.
    public func run(progress: (String) -> Void = { _ in }) -> (withReuse: Double, withoutReuse: Double, identical: Bool) {
        var g = SeededGenerator(seed: 5)
        var v = (0..<model.config.embeddingLength).map { _ in g.nextUnit() - 0.5 }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / norm }
        let vectors = Dictionary(uniqueKeysWithValues: layers.map { ($0, v) })
        var outputs = [[[Int: [GenerationResult]]]]()
        var seconds = [Double]()
        for reuse in [true, false] {
            let sweep = SteeringSweep(model: model, vectors: vectors, variants: multipliers.map { .multiplier($0) },
                                      options: GenerationOptions(maxNewTokens: maxNewTokens), reusePrefix: reuse)
            let start = Date()
            var results = [[Int: [GenerationResult]]]()
            for (i, p) in prompts.enumerated() {
                results.append(sweep.run(prompt: p, layers: layers))
                if (i + 1) % 10 == 0 { progress("\(reuse ? "with" : "without") reuse: \(i + 1)/\(prompts.count) prompts") }
            }
            seconds.append(Date().timeIntervalSince(start))
            outputs.append(results)
        }
        return (seconds[0], seconds[1], outputs[0] == outputs[1])
    }
}
