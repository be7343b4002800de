import Engine
import Foundation
import ModelFormats
import Pipeline

/// A checked request turned into an engine job: the model variant, the prompt's tokens, the interventions its
/// steering entries make, sampling and limits — and the steering as applied, echoed in the response's
/// `reptune` field.
public struct CompletionPlan: Sendable {
    public var job: GenerationJob
    public var modelName: String
    public var applied: JSONValue
    public var stop: [String]

    /// - Parameters:
    ///   - maxTokens: the server's cap on generated tokens per request (and a chat's default).
    public init(_ request: CompletionRequest, catalog: ModelCatalog, library: SteeringLibrary, maxTokens: Int) throws(APIError) {
        let model = catalog.language
        let config = model.network.config
        guard let variant = catalog.index(of: request.model) else {
            throw APIError(404, "model: no model \"\(request.model)\" (available: \(catalog.names.joined(separator: ", ")))",
                           param: "model", code: "model_not_found")
        }
        // The prompt's tokens.
        let ids: [Int]
        switch request.prompt {
        case .chat(let messages):
            let text = catalog.template.render(messages)
            ids = model.tokenizer.encode(text, addBOS: catalog.template.prependsBOS, parseSpecial: true)
        case .text(let text):
            ids = model.tokenizer.encode(text, addBOS: model.tokenizer.vocabulary.addBOS, parseSpecial: true)
        case .tokens(let tokens):
            if let bad = tokens.firstIndex(where: { $0 < 0 || $0 >= config.vocabularySize }) {
                throw APIError.invalid("prompt[\(bad)]", "a token id in 0..<\(config.vocabularySize)", found: .int(tokens[bad]))
            }
            ids = tokens
        }
        let promptName = request.kind == .chat ? "messages" : "prompt"
        guard !ids.isEmpty else { throw APIError(400, "\(promptName): the prompt tokenizes to no tokens", param: promptName, code: "invalid_value") }
        let context = config.contextLength
        if let asked = request.maxTokens, asked > maxTokens {
            throw APIError(400, "max_tokens: \(asked) is more than this server allows per request (\(maxTokens); reptune serve --max-tokens)",
                           param: request.kind == .chat ? "max_tokens" : "max_tokens", code: "invalid_value")
        }
        let newTokens = request.maxTokens ?? (request.kind == .chat ? min(maxTokens, max(1, context - ids.count)) : min(16, maxTokens))
        guard ids.count < context, newTokens <= context - ids.count else {
            throw APIError(400, "this model's maximum context length is \(context) tokens; the request has \(ids.count) in the \(promptName) and asks for \(newTokens) to generate (\(ids.count + newTokens) in all)",
                           param: promptName, code: "context_length_exceeded")
        }
        // Steering: each entry adds m · v at the output of its block, in order.
        var interventions: [Intervention] = []
        var echoed: [JSONValue] = []
        for (i, entry) in request.steering.enumerated() {
            let at = "steering[\(i)]"
            guard (0..<config.blockCount).contains(entry.layer) else {
                throw APIError(400, "\(at).layer: \(entry.layer) is out of range (the model has blocks 0...\(config.blockCount - 1))",
                               param: "\(at).layer", code: "invalid_value")
            }
            let vector: [Float], label: String
            switch entry.vector {
            case .values(let values):
                guard values.count == config.embeddingLength else {
                    throw APIError(400, "\(at).vector: expected \(config.embeddingLength) numbers (the model's width), found \(values.count)",
                                   param: "\(at).vector", code: "invalid_value")
                }
                vector = values
                label = "inline"
            case .named(let name):
                let (directions, l) = try library.directions(named: name, param: "\(at).vector")
                guard let v = directions[entry.layer] else {
                    throw APIError(400, "\(at).layer: vector \"\(name)\" has no direction for layer \(entry.layer) (it has \(directions.keys.sorted().map(String.init).joined(separator: ", ")))",
                                   param: "\(at).layer", code: "invalid_value")
                }
                guard v.count == config.embeddingLength else {
                    throw APIError(400, "\(at).vector: \"\(name)\" has width \(v.count), the model \(config.embeddingLength)",
                                   param: "\(at).vector", code: "invalid_value")
                }
                vector = v
                label = l
            }
            let steer = Intervention.steer(layer: entry.layer, vector: vector, multiplier: entry.multiplier, positions: entry.positions)
            guard !steer.overflowsFP32 else {
                throw APIError(400, "\(at).multiplier: \(entry.multiplier) × the vector overflows fp32 activations; use a smaller multiplier",
                               param: "\(at).multiplier", code: "invalid_value")
            }
            interventions.append(steer)
            let norm = vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            echoed.append(.object([
                "vector": .string(label), "layer": .int(entry.layer), "multiplier": .double(Double(entry.multiplier)),
                "positions": .string(entry.positionsName), "vector_norm": .double(norm),
            ]))
        }
        let sampling: Sampling = request.temperature == 0
            ? .greedy
            : .random(temperature: Float(request.temperature), topP: Float(request.topP), seed: request.seed ?? UInt64.random(in: 0...UInt64.max))
        job = GenerationJob(prompt: ids, variant: variant, interventions: interventions, sampling: sampling, maxNewTokens: newTokens,
                            stopTokens: model.tokenizer.stopTokenIDs, topLogprobs: request.logprobs ? request.topLogprobs : nil)
        modelName = catalog.names[variant]
        applied = .object(["model": .string(modelName), "variant": .string(variant == 0 ? "base" : "tuned"), "steering": .array(echoed)])
        stop = request.stop
    }
}

/// The models the server answers for: the base model (by its file's name, with or without the extension) and
/// each tuned variant of the results directory (by its tune stage's id), in `ModelVariants` order.
public struct ModelCatalog: Sendable {
    public var language: LanguageModel
    public var template: ChatTemplate
    /// `names[0]` is the base model's id; then the variants'.
    public var names: [String]
    public var variants: ModelVariants

    public init(language: LanguageModel, library: SteeringLibrary) throws {
        self.language = language
        template = language.chatTemplate ?? ChatTemplate(format: .chatml)
        var models: [LlamaModel] = []
        var names = [language.source.deletingPathExtension().lastPathComponent]
        for v in library.variants {
            let file = try GGUFFile(contentsOf: v.file)
            models.append(try language.network.applying(variant: file))
            names.append(v.name)
        }
        self.names = names
        variants = ModelVariants(base: language.network, variants: models)
    }

    public func index(of name: String) -> Int? {
        if let i = names.firstIndex(of: name) { return i }
        return name == language.source.lastPathComponent ? 0 : nil
    }
}
