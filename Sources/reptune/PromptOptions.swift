import CommandLineSpec
import Engine
import Foundation
import ModelFormats
import Pipeline

/// The options `forward` and `generate` share: the model, the prompt (`--prompt` or `--chat`), and steering.
struct PromptOptions {
    var model: LanguageModel
    var ids: [Int]
    var interventions: [Intervention]
    /// How the steering reads in errors ("steering block 10's output with multiplier 8"), or "" without steering.
    var steeringPhrase = ""

    init(_ a: ParsedArguments, maxNewTokens: Int = 0) throws {
        let url = try ModelLocation.resolve(a.positional.first)
        model = try LanguageModel(path: url, weights: a.weightsPolicy)
        let text: String, addBOS: Bool
        switch (a.string("prompt"), a.string("chat")) {
        case (let p?, nil):
            guard !a.isGiven("template") else {
                throw CLIError("--template applies to --chat FILE.json; --prompt TEXT is tokenized as it is, with no chat template")
            }
            text = p
            addBOS = a.flag("bos") || model.tokenizer.vocabulary.addBOS
        case (nil, let path?):
            let data: Data
            do { data = try InputFile.read(URL(fileURLWithPath: path), what: "--chat", maxBytes: InputFile.Limit.smallText) } catch {
                throw CLIError("\(error)", exitCode: 1)
            }
            let messages: [ChatMessage]
            do { messages = try JSONDecoder().decode([ChatMessage].self, from: data) } catch {
                throw CLIError("--chat \(path): expected a JSON array of {\"role\": ..., \"content\": ...} objects (\(Self.describe(error)))", exitCode: 1)
            }
            let template = try a.string("template").map { try ChatTemplate(named: $0) }
            (text, addBOS) = try model.render(chat: messages, template: template)
        case (nil, nil): throw CLIError("give the prompt with --prompt TEXT or --chat FILE.json")
        default: throw CLIError("give either --prompt or --chat, not both")
        }
        ids = model.tokenizer.encode(text, addBOS: addBOS, parseSpecial: !a.flag("no-special"))
        try model.validate(prompt: ids, maxNewTokens: maxNewTokens)
        interventions = []
        if let steer = a.string("steer") {
            guard let layer = a.int("layer") else { throw CLIError("--steer needs --layer L") }
            let blocks = model.network.config.blockCount
            guard (0..<blocks).contains(layer) else { throw CLIError("--layer \(layer): expected 0...\(blocks - 1)") }
            let file = try ControlVectorFile(contentsOf: URL(fileURLWithPath: steer))
            let vector = try file.direction(layer: layer, width: model.network.config.embeddingLength, source: steer)
            let positions: PositionSelector = switch a.string("positions") {
            case "prompt": .prompt
            case "generated": .generated
            default: .all
            }
            let multiplier = a.float("mult") ?? 1
            interventions.append(.steer(layer: layer, vector: vector, multiplier: multiplier, positions: positions))
            steeringPhrase = " while steering block \(layer)'s output with multiplier \(multiplier)"
        } else if a.isGiven("layer") || a.isGiven("mult") || a.isGiven("positions") {
            throw CLIError("--layer, --mult and --positions need --steer FILE")
        }
    }

    /// The error for logits that stopped being finite numbers (an intervention or the weights overflowed fp32).
    func nonFinite() -> CLIError {
        CLIError("the activations became non-finite (NaN or ±infinity in the logits, or in the residual's squared norm)"
                 + "\(steeringPhrase): they overflow fp32" + (steeringPhrase.isEmpty ? "" : "; use a smaller --mult"), exitCode: 1)
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): "invalid JSON: \(c.underlyingError.map { "\($0)" } ?? c.debugDescription)"
        case DecodingError.keyNotFound(let k, let c): "missing \"\(k.stringValue)\" at \(path(c.codingPath))"
        case DecodingError.typeMismatch(let t, let c): "expected \(t) at \(path(c.codingPath))"
        default: "\(error)"
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
