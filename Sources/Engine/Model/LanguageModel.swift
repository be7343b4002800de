import Foundation
import ModelFormats

/// A model ready to talk to: the network, its tokenizer and its chat template, loaded from one file.
public struct LanguageModel: Sendable {
    public var network: LlamaModel
    public var tokenizer: Tokenizer
    /// The chat template the file names (nil when it has none that reptune knows).
    public var chatTemplate: ChatTemplate?
    public var source: URL

    public init(network: LlamaModel, tokenizer: Tokenizer, chatTemplate: ChatTemplate?, source: URL) {
        self.network = network
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.source = source
    }

    /// Loads a GGUF file (weights held as `weights` says, tokenizer and template from its metadata).
    public init(gguf url: URL, weights: WeightsPolicy = .auto) throws {
        let file = try GGUFFile(contentsOf: url)
        try self.init(network: LlamaModel(gguf: file, weights: weights), tokenizer: Tokenizer(gguf: file),
                      chatTemplate: ChatTemplate.detect(gguf: file), source: url)
    }

    /// A chat rendered with `template` (or the model's own) and the generation prompt, as the text to tokenize.
    public func render(chat messages: [ChatMessage], template: ChatTemplate? = nil) throws -> (text: String, addBOS: Bool) {
        guard let t = template ?? chatTemplate else {
            throw ModelLoadError(file: source.path, "the model names no chat template reptune knows; pass one explicitly (chatml, llama2, llama3, llama2-paper)")
        }
        return (t.render(messages), t.prependsBOS)
    }

    /// Checks a prompt against the model's limits before it runs.
    public func validate(prompt ids: [Int], maxNewTokens: Int = 0) throws {
        if ids.isEmpty { throw PromptError("the prompt is empty: give some text (it tokenizes to no tokens)") }
        let limit = network.config.contextLength
        if ids.count > limit || maxNewTokens > limit - ids.count {   // no sum that could wrap
            throw PromptError("the prompt has \(ids.count) tokens\(maxNewTokens > 0 ? " + \(maxNewTokens) to generate" : ""), more than the model's context of \(limit) tokens")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= network.config.vocabularySize }) {
            throw PromptError("token id \(bad) is outside the vocabulary (0..<\(network.config.vocabularySize))")
        }
    }
}

/// A prompt the model cannot run: empty, too long, or with ids outside the vocabulary.
public struct PromptError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ message: String) { description = message }
}
