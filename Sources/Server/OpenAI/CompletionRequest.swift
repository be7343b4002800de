import Engine
import Foundation
import ModelFormats
import Pipeline

/// A `/v1/chat/completions` or `/v1/completions` body, read and type-checked field by field (an unknown or
/// unsupported field is a 400 naming it). Resolving the model, the steering and the limits comes after
/// (`CompletionPlanner`).
public struct CompletionRequest: Sendable {
    public enum Kind: Sendable { case chat, text }
    /// The prompt: chat messages, text, or token ids.
    public enum Prompt: Sendable {
        case chat([ChatMessage])
        case text(String)
        case tokens([Int])
    }

    public var kind: Kind
    public var model: String
    public var prompt: Prompt
    public var stream = false
    public var includeUsage = false
    public var maxTokens: Int?
    /// OpenAI's defaults: temperature 1, top_p 1 (temperature 0 is greedy).
    public var temperature = 1.0
    public var topP = 1.0
    public var seed: UInt64?
    public var stop: [String] = []
    /// Chat: `logprobs: true` with `top_logprobs` 0…20. Completions: `logprobs` 0…20 alternatives.
    public var logprobs = false
    public var topLogprobs = 0
    public var steering: [SteeringEntry] = []

    /// The most alternatives `top_logprobs` (or a completion's `logprobs`) may ask for.
    public static let maxTopLogprobs = 20

    public init(kind: Kind, body: [UInt8]) throws(APIError) {
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch {
            throw APIError(400, "the body is not valid JSON: \(error)", code: "invalid_json")
        }
        guard let members = json.objectValue else { throw APIError.invalid("body", "a JSON object", found: json) }
        self.kind = kind
        model = ""
        prompt = .text("")
        var sawModel = false, sawPrompt = false
        for m in members {
            let v = m.value, key = m.key
            switch (key, kind) {
            case ("model", _):
                guard let s = v.stringValue else { throw APIError.invalid(key, "a string", found: v) }
                model = s
                sawModel = true
            case ("messages", .chat):
                prompt = .chat(try Self.messages(v))
                sawPrompt = true
            case ("prompt", .text):
                prompt = try Self.textPrompt(v)
                sawPrompt = true
            case ("stream", _):
                guard let b = v.boolValue else { throw APIError.invalid(key, "a boolean", found: v) }
                stream = b
            case ("stream_options", _):
                guard !v.isNull else { continue }
                guard let o = v.objectValue else { throw APIError.invalid(key, "an object", found: v) }
                for option in o {
                    guard option.key == "include_usage" else {
                        throw APIError(400, "stream_options.\(option.key) is not supported (only include_usage)",
                                       param: "stream_options.\(option.key)", code: "unsupported_parameter")
                    }
                    guard let b = option.value.boolValue else {
                        throw APIError.invalid("stream_options.include_usage", "a boolean", found: option.value)
                    }
                    includeUsage = b
                }
            case ("max_tokens", _), ("max_completion_tokens", .chat):
                guard !v.isNull else { continue }
                guard let n = v.intValue, n >= 1 else { throw APIError.invalid(key, "an integer ≥ 1", found: v) }
                maxTokens = n
            case ("temperature", _):
                guard !v.isNull else { continue }
                guard let t = v.doubleValue, t.isFinite, (0...2).contains(t) else { throw APIError.invalid(key, "a number in 0...2", found: v) }
                temperature = t
            case ("top_p", _):
                guard !v.isNull else { continue }
                guard let p = v.doubleValue, p.isFinite, p > 0, p <= 1 else { throw APIError.invalid(key, "a number in (0, 1]", found: v) }
                topP = p
            case ("seed", _):
                guard !v.isNull else { continue }
                guard let s = v.intValue else { throw APIError.invalid(key, "an integer", found: v) }
                seed = UInt64(bitPattern: Int64(s))
            case ("stop", _):
                guard !v.isNull else { continue }
                if let s = v.stringValue { stop = [s] } else if let a = v.arrayValue, a.count <= 4,
                    a.allSatisfy({ $0.stringValue != nil }) { stop = a.map { $0.stringValue! } } else {
                    throw APIError.invalid(key, "a string or an array of up to 4 strings", found: v)
                }
                if stop.contains(where: \.isEmpty) { throw APIError.invalid(key, "non-empty strings") }
            case ("n", _):
                guard !v.isNull else { continue }
                guard v.intValue == 1 else { throw APIError(400, "n: only 1 is supported, found \(v.summary)", param: key, code: "unsupported_value") }
            case ("logprobs", .chat):
                guard !v.isNull else { continue }
                guard let b = v.boolValue else { throw APIError.invalid(key, "a boolean", found: v) }
                logprobs = b
            case ("top_logprobs", .chat):
                guard !v.isNull else { continue }
                guard let n = v.intValue, (0...Self.maxTopLogprobs).contains(n) else {
                    throw APIError.invalid(key, "an integer in 0...\(Self.maxTopLogprobs)", found: v)
                }
                topLogprobs = n
            case ("logprobs", .text):
                guard !v.isNull else { continue }
                guard let n = v.intValue, (0...Self.maxTopLogprobs).contains(n) else {
                    throw APIError.invalid(key, "an integer in 0...\(Self.maxTopLogprobs)", found: v)
                }
                logprobs = true
                topLogprobs = n
            case ("echo", .text):
                guard v.boolValue == false || v.isNull else { throw APIError(400, "echo: only false is supported", param: key, code: "unsupported_value") }
            case ("suffix", .text):
                guard v.isNull else { throw APIError(400, "suffix is not supported", param: key, code: "unsupported_parameter") }
            case ("presence_penalty", _), ("frequency_penalty", _):
                guard v.isNull || v.doubleValue == 0 else {
                    throw APIError(400, "\(key) is not supported (only 0)", param: key, code: "unsupported_value")
                }
            case ("user", _):
                guard v.isNull || v.stringValue != nil else { throw APIError.invalid(key, "a string", found: v) }
            case ("steering", _):
                guard !v.isNull else { continue }
                steering = try SteeringEntry.list(v)
            default:
                throw APIError(400, "unsupported field \"\(key)\"\(kind == .chat && key == "prompt" ? " (chat completions take messages)" : kind == .text && key == "messages" ? " (completions take prompt)" : "")",
                               param: key, code: "unsupported_parameter")
            }
        }
        guard sawModel else { throw APIError(400, "model: required", param: "model", code: "missing_required_parameter") }
        guard sawPrompt else {
            let name = kind == .chat ? "messages" : "prompt"
            throw APIError(400, "\(name): required", param: name, code: "missing_required_parameter")
        }
        if topLogprobs > 0 && !logprobs && kind == .chat {
            throw APIError(400, "top_logprobs needs logprobs: true", param: "top_logprobs", code: "invalid_value")
        }
    }

    static func messages(_ v: JSONValue) throws(APIError) -> [ChatMessage] {
        guard let items = v.arrayValue, !items.isEmpty else { throw APIError.invalid("messages", "a non-empty array", found: v) }
        var out: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            let at = "messages[\(i)]"
            guard let o = item.objectValue else { throw APIError.invalid(at, "an object", found: item) }
            var role: String?, content: String?
            for m in o {
                switch m.key {
                case "role":
                    guard let r = m.value.stringValue, ["system", "user", "assistant", "developer"].contains(r) else {
                        throw APIError.invalid("\(at).role", "system, user, assistant or developer", found: m.value)
                    }
                    role = r == "developer" ? "system" : r
                case "content":
                    if let s = m.value.stringValue { content = s; continue }
                    // Content parts: text only.
                    guard let parts = m.value.arrayValue else {
                        throw APIError.invalid("\(at).content", "a string or an array of text parts", found: m.value)
                    }
                    var text = ""
                    for (k, part) in parts.enumerated() {
                        guard part["type"]?.stringValue == "text", let t = part["text"]?.stringValue else {
                            throw APIError.invalid("\(at).content[\(k)]", "a {\"type\": \"text\", \"text\": ...} part", found: part)
                        }
                        text += t
                    }
                    content = text
                case "name":
                    guard m.value.stringValue != nil else { throw APIError.invalid("\(at).name", "a string", found: m.value) }
                default:
                    throw APIError(400, "unsupported field \"\(at).\(m.key)\"", param: "\(at).\(m.key)", code: "unsupported_parameter")
                }
            }
            guard let role else { throw APIError(400, "\(at).role: required", param: "\(at).role", code: "missing_required_parameter") }
            guard let content else { throw APIError(400, "\(at).content: required", param: "\(at).content", code: "missing_required_parameter") }
            out.append(ChatMessage(role: role, content: content))
        }
        return out
    }

    static func textPrompt(_ v: JSONValue) throws(APIError) -> Prompt {
        if let s = v.stringValue { return .text(s) }
        if let a = v.arrayValue {
            if a.count == 1, let s = a[0].stringValue { return .text(s) }
            if !a.isEmpty, a.allSatisfy({ $0.intValue != nil }) { return .tokens(a.map { $0.intValue! }) }
        }
        throw APIError.invalid("prompt", "a string, an array of one string, or an array of token ids (one prompt: n is 1)", found: v)
    }
}

/// One `"steering"` entry as sent: which vector (a stored name or the values), the block, the multiplier and the
/// positions. Entries compose: each adds its vector in order.
public struct SteeringEntry: Sendable {
    public enum Vector: Sendable {
        case named(String)
        case values([Float])
    }
    public var vector: Vector
    public var layer: Int
    public var multiplier: Float
    public var positions: PositionSelector
    /// `all`, `prompt` or `generated`, as sent.
    public var positionsName: String

    static func list(_ v: JSONValue) throws(APIError) -> [SteeringEntry] {
        guard let items = v.arrayValue else { throw APIError.invalid("steering", "an array of steering entries", found: v) }
        guard items.count <= 64 else { throw APIError.invalid("steering", "at most 64 entries", found: v) }
        var out: [SteeringEntry] = []
        for (i, item) in items.enumerated() {
            let at = "steering[\(i)]"
            guard let o = item.objectValue else { throw APIError.invalid(at, "an object with vector, layer, multiplier", found: item) }
            var vector: Vector?, layer: Int?, multiplier: Float = 1, positions = "all"
            for m in o {
                let p = "\(at).\(m.key)"
                switch m.key {
                case "vector":
                    if let s = m.value.stringValue, !s.isEmpty { vector = .named(s); continue }
                    guard let a = m.value.arrayValue, !a.isEmpty else {
                        throw APIError.invalid(p, "a stored vector's name or an array of numbers", found: m.value)
                    }
                    var values: [Float] = []
                    values.reserveCapacity(a.count)
                    for x in a {
                        guard let d = x.doubleValue, d.isFinite, abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                            throw APIError.invalid(p, "finite fp32 numbers", found: x)
                        }
                        values.append(Float(d))
                    }
                    vector = .values(values)
                case "layer":
                    guard let l = m.value.intValue else { throw APIError.invalid(p, "an integer block index", found: m.value) }
                    layer = l
                case "multiplier":
                    guard let d = m.value.doubleValue, d.isFinite, abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                        throw APIError.invalid(p, "a finite fp32 number", found: m.value)
                    }
                    multiplier = Float(d)
                case "positions":
                    guard let s = m.value.stringValue, ["all", "prompt", "generated"].contains(s) else {
                        throw APIError.invalid(p, "all, prompt or generated", found: m.value)
                    }
                    positions = s
                default:
                    throw APIError(400, "unsupported field \"\(p)\" (a steering entry has vector, layer, multiplier, positions)",
                                   param: p, code: "unsupported_parameter")
                }
            }
            guard let vector else { throw APIError(400, "\(at).vector: required", param: "\(at).vector", code: "missing_required_parameter") }
            guard let layer else { throw APIError(400, "\(at).layer: required", param: "\(at).layer", code: "missing_required_parameter") }
            out.append(SteeringEntry(vector: vector, layer: layer, multiplier: multiplier,
                                     positions: positions == "prompt" ? .prompt : positions == "generated" ? .generated : .all,
                                     positionsName: positions))
        }
        return out
    }
}
