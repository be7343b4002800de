import ModelFormats

/// A prompt as contents (system text, user text, the start of the assistant's reply), independent of any chat
/// template. The `llama2-paper` preset renders it with `Llama2PaperFormat`; models with their own chat template
/// render `messages` through it.
public struct PromptSpec: Sendable, Equatable, Hashable, Codable {
    public var system: String?
    public var user: String
    /// Text the assistant's turn starts with, e.g. the label letter of a contrast prompt; empty for evaluation
    /// prompts.
    public var assistantPrefix: String
    /// What the paper's single-line Llama-2 format put between ` [/INST]` and the assistant prefix: a space in
    /// every prompt except the instrumental-lying open-ended ones. Only `Llama2PaperFormat` reads it.
    public var paperAnswerSeparator: String

    public init(system: String? = nil, user: String, assistantPrefix: String = "", paperAnswerSeparator: String = " ") {
        self.system = system
        self.user = user
        self.assistantPrefix = assistantPrefix
        self.paperAnswerSeparator = paperAnswerSeparator
    }

    /// The contents as role-tagged messages; the assistant message (if any) is a prefix to continue, not a
    /// finished turn.
    public var messages: [PromptMessage] {
        var out: [PromptMessage] = []
        if let system { out.append(PromptMessage(role: .system, content: system)) }
        out.append(PromptMessage(role: .user, content: user))
        if !assistantPrefix.isEmpty { out.append(PromptMessage(role: .assistant, content: assistantPrefix)) }
        return out
    }
}

/// One role-tagged piece of a prompt.
public struct PromptMessage: Sendable, Equatable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// The paper's single-line Llama-2 chat format (the `llama2-paper` preset):
/// `[INST] <<SYS>> {system} <</SYS>> {user} [/INST] {assistant prefix}`. The tokenizer prepends BOS. The tags come
/// from `ChatTemplate`'s `llama2-paper` format; this adds the prompt's own separator before the assistant prefix.
public enum Llama2PaperFormat {
    public static func render(_ spec: PromptSpec) -> String {
        var turns = [ChatMessage]()
        if let system = spec.system { turns.append(.system(system)) }
        turns.append(.user(spec.user))
        return ChatTemplate(format: .llama2Paper).render(turns, addGenerationPrompt: false)
            + spec.paperAnswerSeparator + spec.assistantPrefix
    }
}
