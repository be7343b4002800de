import Engine
import Foundation

/// One steering condition of a sweep: add `m · v` at a layer, or project `v` out ("zeroed out").
public enum SteeringVariant: Hashable, Sendable, Codable, CustomStringConvertible {
    case multiplier(Float)
    case zeroOut

    public var description: String {
        switch self {
        case .multiplier(let m): "m=\(m)"
        case .zeroOut: "zeroed out"
        }
    }

    func intervention(layer: Int, vector: [Float], positions: PositionSelector) -> Intervention {
        switch self {
        case .multiplier(let m): .steer(layer: layer, vector: vector, multiplier: m, positions: positions)
        case .zeroOut: .projectOut(layer: layer, direction: vector, positions: positions)
        }
    }
}

/// Greedy generations of one prompt under every variant at several layers (METHOD.md §4).
///
/// With `reusePrefix`, the prompt runs unsteered once, block by block up the sorted layers; for each layer L the
/// variants resume from the residual after block L, sharing the KV cache of blocks 0…L, all variants in one
/// batch; then the variants of every layer decode together. Without it, every (layer, variant) runs the whole prompt (the baseline the benchmark compares with).
public struct SteeringSweep: Sendable {
    public var model: LlamaModel
    public var vectors: [Int: [Float]]
    public var variants: [SteeringVariant]
    public var positions: PositionSelector
    public var options: GenerationOptions
    public var reusePrefix: Bool

    public init(model: LlamaModel, vectors: [Int: [Float]], variants: [SteeringVariant], positions: PositionSelector = .all,
                options: GenerationOptions, reusePrefix: Bool = true) {
        self.model = model
        self.vectors = vectors
        self.variants = variants
        self.positions = positions
        self.options = options
        self.reusePrefix = reusePrefix
    }

    /// Generations by layer, then variant (in `variants` order), for one prompt.
    public func run(prompt: [Int], layers: [Int]) -> [Int: [GenerationResult]] {
        var results = [Int: [GenerationResult]]()
        guard reusePrefix else {
            for layer in layers {
                let requests = variants.map {
                    GenerationRequest(prompt: prompt, interventions: [$0.intervention(layer: layer, vector: vectors[layer]!, positions: positions)])
                }
                results[layer] = model.generate(requests, options: options)
            }
            return results
        }
        var prefix = [ForwardItem(tokens: prompt, cache: model.makeCache(reserve: model.cacheReserve(prompt: prompt.count, newTokens: options.maxNewTokens)),
                                  promptLength: prompt.count, logits: .none)]
        var residual: [Float]?
        var reached = 0
        var running = [ForwardItem](), firstOutputs = [ForwardOutput](), order = [Int]()
        for layer in layers.sorted() {
            // The unsteered prompt through block `layer`, continuing from where the previous layer stopped.
            let out = model.forward(&prefix, blocks: reached..<(layer + 1), residual: residual, finish: false)[0]
            residual = out.residual
            reached = layer + 1
            var items = variants.map { v in
                var item = prefix[0]
                item.interventions = [v.intervention(layer: layer, vector: vectors[layer]!, positions: positions)]
                item.logits = .last
                return item
            }
            let repeated = Array(repeating: residual!, count: variants.count).flatMap { $0 }
            firstOutputs += model.forward(&items, blocks: (layer + 1)..<model.config.blockCount, residual: repeated)
            running += items
            order.append(layer)
        }
        // Every layer's variants decode together.
        let generated = model.decode(&running, after: firstOutputs, options: options)
        for (k, layer) in order.enumerated() {
            results[layer] = Array(generated[(k * variants.count)..<((k + 1) * variants.count)])
        }
        return results
    }

    /// Generations of several prompts under every variant at one layer, in one batch: the unsteered prompts run
    /// through blocks 0…`layer` together once, every (prompt, variant) resumes from its prompt's residual and KV
    /// cache above `layer`, and all of them decode together. Result: `[prompt][variant]`. Equal to `run(prompt:
    /// layers: [layer])` of each prompt on its own.
    public func run(prompts: [[Int]], layer: Int) -> [[GenerationResult]] {
        guard !prompts.isEmpty else { return [] }
        let intervention = { (v: SteeringVariant) in v.intervention(layer: layer, vector: vectors[layer]!, positions: positions) }
        guard reusePrefix else {
            let requests = prompts.flatMap { p in variants.map { GenerationRequest(prompt: p, interventions: [intervention($0)]) } }
            let all = model.generate(requests, options: options)
            return prompts.indices.map { Array(all[($0 * variants.count)..<(($0 + 1) * variants.count)]) }
        }
        var prefix = prompts.map {
            ForwardItem(tokens: $0, cache: model.makeCache(reserve: model.cacheReserve(prompt: $0.count, newTokens: options.maxNewTokens)),
                        promptLength: $0.count, logits: .none)
        }
        let outs = model.forward(&prefix, blocks: 0..<(layer + 1), finish: false)
        var items = [ForwardItem](), residual = [Float]()
        for (p, out) in outs.enumerated() {
            for v in variants {
                var item = prefix[p]
                item.interventions = [intervention(v)]
                item.logits = .last
                items.append(item)
                residual += out.residual!
            }
        }
        prefix = []
        let first = model.forward(&items, blocks: (layer + 1)..<model.config.blockCount, residual: residual)
        let generated = model.decode(&items, after: first, options: options)
        return prompts.indices.map { Array(generated[($0 * variants.count)..<(($0 + 1) * variants.count)]) }
    }
}
