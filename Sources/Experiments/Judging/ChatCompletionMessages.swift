import Foundation

/// The JSON body of an OpenAI-compatible `POST …/chat/completions` request (the fields a judge sends).
public struct ChatCompletionRequest: Codable, Sendable, Equatable {
    /// One chat turn.
    public struct Message: Codable, Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    public var model: String
    public var messages: [Message]
    public var temperature: Double
    public var maxTokens: Int

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature
        case maxTokens = "max_tokens"
    }

    public init(model: String, messages: [Message], temperature: Double = 0, maxTokens: Int) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    /// The body bytes (keys sorted, so identical requests are identical bytes).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// Reads `choices[0].message.content` from a chat-completions reply.
public enum ChatCompletionReply {
    /// The reply text; a `null` content (e.g. a refusal) reads as "". Throws a `JudgeError` naming `endpoint` and
    /// what was expected when the body is not such JSON.
    public static func content(of body: Data, endpoint: String) throws -> String {
        func fail(_ what: String) -> JudgeError {
            let snippet = String(decoding: body.prefix(300), as: UTF8.self)
            return JudgeError("\(endpoint): the reply is not a chat completion (\(what)); it began: \(snippet.debugDescription)")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body)
        } catch {
            throw fail("expected a JSON object, got malformed JSON")
        }
        guard let root = object as? [String: Any] else { throw fail("expected a JSON object") }
        guard let choices = root["choices"] as? [Any] else { throw fail("expected an array `choices`") }
        guard let first = choices.first as? [String: Any] else { throw fail("expected at least one object in `choices`") }
        guard let message = first["message"] as? [String: Any] else { throw fail("expected an object `choices[0].message`") }
        if message["content"] is NSNull { return "" }
        guard let content = message["content"] as? String else {
            throw fail("expected a string `choices[0].message.content`")
        }
        return content
    }
}
