import Engine
import Foundation
import ModelFormats

/// Residual-stream activations of many prompts: for each captured layer, one row of `width` values per prompt.
public struct ActivationMatrix: Sendable, Equatable {
    public var layers: [Int]
    public var width: Int
    /// `rows[layer]` is row-major `[prompts × width]`.
    public var rows: [Int: [Float]]
    public var count: Int

    public init(layers: [Int], width: Int, rows: [Int: [Float]], count: Int) {
        self.layers = layers
        self.width = width
        self.rows = rows
        self.count = count
    }

    /// The activation of prompt `i` at `layer`.
    public func row(_ i: Int, layer: Int) -> ArraySlice<Float> {
        rows[layer]![i * width..<(i + 1) * width]
    }
}

/// Runs prompts through the model in batches and records the output of chosen blocks at one token position.
public struct ActivationCollector: Sendable {
    public var model: LanguageModel
    public var template: ChatTemplate
    public var batchSize: Int

    public init(model: LanguageModel, template: ChatTemplate, batchSize: Int = 16) {
        self.model = model
        self.template = template
        self.batchSize = batchSize
    }

    /// Tokens of a prompt as the model sees it.
    public func tokens(_ prompt: PromptSpec) -> [Int] {
        prompt.tokens(model.tokenizer, template: template)
    }

    /// Activations of `prompts` at `layers` (block outputs), `offsetFromEnd` tokens before each prompt's last
    /// token (0 = the last token). `progress` gets (prompts done, total).
    public func collect(_ prompts: [PromptSpec], layers: [Int], offsetFromEnd: Int = 0,
                        progress: (Int, Int) -> Void = { _, _ in }) -> ActivationMatrix {
        collect(prompts, layers: layers, offsetsFromEnd: [offsetFromEnd], progress: progress)[offsetFromEnd]!
    }

    /// Activations at several positions at once (one forward pass per batch): offset from the end → matrix.
    /// A prompt shorter than an offset contributes its first token's activation there. `progress` gets (prompts
    /// done, total) after each batch.
    public func collect(_ prompts: [PromptSpec], layers: [Int], offsetsFromEnd: [Int],
                        progress: (Int, Int) -> Void = { _, _ in }) -> [Int: ActivationMatrix] {
        collect(prompts, layers: layers, offsetsFromEnd: offsetsFromEnd, continuing: nil) { done, _ in
            if done > 0 { progress(done, prompts.count) }
        }
    }

    /// The same, continuing from `earlier` — the activations of the first prompts, a whole number of batches (or
    /// all of them), as an interrupted collection saved them — with the batches cut as in an uninterrupted
    /// collection, so the result is the same to the bit. `beforeBatch` gets the prompts done and the activations
    /// so far before every batch and once at the end; it may throw to stop (after saving them).
    public func collect(_ prompts: [PromptSpec], layers: [Int], offsetsFromEnd: [Int], continuing earlier: [Int: ActivationMatrix]?,
                        beforeBatch: (Int, [Int: ActivationMatrix]) throws -> Void) rethrows -> [Int: ActivationMatrix] {
        let d = model.network.config.embeddingLength
        let offsets = Array(Set(offsetsFromEnd)).sorted()
        var rows = [Int: [Int: [Float]]]()
        for o in offsets { rows[o] = earlier?[o]?.rows ?? Dictionary(uniqueKeysWithValues: layers.map { ($0, [Float]()) }) }
        var done = earlier?.values.first?.count ?? 0
        func matrices() -> [Int: ActivationMatrix] {
            rows.mapValues { ActivationMatrix(layers: layers, width: d, rows: $0, count: done) }
        }
        let top = (layers.max() ?? 0) + 1
        let size = max(batchSize, 1)
        for start in stride(from: done, to: prompts.count, by: size) {
            try beforeBatch(done, matrices())
            let batch = prompts[start..<min(start + size, prompts.count)]
            let ids = batch.map { tokens($0) }
            var items = ids.map { t in
                ForwardItem(tokens: t, cache: model.network.makeCache(),
                            interventions: layers.map { .capture(.block($0), positions: .fromEnd(offsets)) },
                            logits: .none)
            }
            // Blocks above the highest captured layer are not needed.
            let outputs = model.network.forward(&items, blocks: 0..<top)
            for (out, t) in zip(outputs, ids) {
                for (layer, capture) in zip(layers, out.captures) {
                    for o in offsets {
                        let position = max(capture.positions.min() ?? 0, t.count - 1 - o)
                        rows[o]![layer]! += capture.row(at: position)!
                    }
                }
            }
            done += batch.count
        }
        let result = matrices()
        try beforeBatch(done, result)
        return result
    }
}
