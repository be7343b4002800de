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
        model.tokenizer.encode(prompt.render(template), addBOS: template.prependsBOS ? true : nil, parseSpecial: true)
    }

    /// Activations of `prompts` at `layers` (block outputs), `offsetFromEnd` tokens before each prompt's last
    /// token (0 = the last token). `progress` gets (prompts done, total).
    public func collect(_ prompts: [PromptSpec], layers: [Int], offsetFromEnd: Int = 0,
                        progress: (Int, Int) -> Void = { _, _ in }) -> ActivationMatrix {
        let d = model.network.config.embeddingLength
        var rows = Dictionary(uniqueKeysWithValues: layers.map { ($0, [Float]()) })
        let top = (layers.max() ?? 0) + 1
        var done = 0
        for start in stride(from: 0, to: prompts.count, by: max(batchSize, 1)) {
            let batch = prompts[start..<min(start + batchSize, prompts.count)]
            var items = batch.map { p in
                ForwardItem(tokens: tokens(p), cache: model.network.makeCache(),
                            interventions: layers.map { .capture(.block($0), positions: .fromEnd([offsetFromEnd])) },
                            logits: .none)
            }
            // Blocks above the highest captured layer are not needed.
            let outputs = model.network.forward(&items, blocks: 0..<top)
            for out in outputs {
                for (layer, capture) in zip(layers, out.captures) { rows[layer]! += capture.values }
            }
            done += batch.count
            progress(done, prompts.count)
        }
        return ActivationMatrix(layers: layers, width: d, rows: rows, count: prompts.count)
    }
}
