import Foundation

/// How a conversation becomes the text a chat model was trained on: ChatML (SmolLM2, Qwen), Llama-2
/// (`[INST] <<SYS>>`), Llama-3 (header tokens), and the paper's single-line Llama-2 variant (METHOD.md §2).
public struct ChatTemplate: Sendable, Equatable {
    /// The supported formats.
    public enum Format: String, Sendable, CaseIterable, Codable {
        case chatml
        case llama2
        case llama3
        /// `[INST] <<SYS>> {system} <</SYS>> {user} [/INST] {assistant}` on one line, BOS prepended as a token.
        case llama2Paper = "llama2-paper"
    }

    public var format: Format
    /// System prompt inserted when a conversation has none (SmolLM2's template adds one).
    public var defaultSystemPrompt: String?

    public init(format: Format, defaultSystemPrompt: String? = nil) {
        self.format = format
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// A template by name (`chatml`, `llama2`, `llama3`, `llama2-paper`).
    public init(named name: String) throws(TokenizerError) {
        guard let f = Format(rawValue: name) else {
            throw TokenizerError("unknown chat template \"\(name)\" (expected one of \(Format.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.init(format: f)
    }

    /// The template a model's Jinja `tokenizer.chat_template` implements, recognised by its markers.
    public static func detect(jinja: String) -> ChatTemplate? {
        if jinja.contains("<|im_start|>") {
            var system: String?
            let opening = jinja.range(of: "<|im_start|>system\n") ?? jinja.range(of: "<|im_start|>system\\n")
            if let r = opening, let e = jinja[r.upperBound...].range(of: "<|im_end|>") {
                let s = String(jinja[r.upperBound..<e.lowerBound])
                if !s.contains("{") { system = s }
            }
            return ChatTemplate(format: .chatml, defaultSystemPrompt: system)
        }
        if jinja.contains("<|start_header_id|>") { return ChatTemplate(format: .llama3) }
        if jinja.contains("[INST]") { return ChatTemplate(format: .llama2) }
        return nil
    }

    /// The template stored in a GGUF (`tokenizer.chat_template`), if it is one of the supported formats.
    public static func detect(gguf: GGUFFile) -> ChatTemplate? {
        gguf.metadata["tokenizer.chat_template"]?.string.flatMap { detect(jinja: $0) }
    }

    /// Whether the tokenizer should prepend BOS to the rendered text (the text itself carries no `<s>`).
    public var prependsBOS: Bool { format == .llama2Paper }

    /// Renders `messages`; with `addGenerationPrompt` the assistant turn is opened and `assistantPrefix` written
    /// into it (e.g. the answer letter of a contrast prompt).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, assistantPrefix: String = "") -> String {
        var messages = messages
        if let system = defaultSystemPrompt, messages.first?.role != "system" {
            messages.insert(.system(system), at: 0)
        }
        var out = ""
        switch format {
        case .chatml:
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" + assistantPrefix }
        case .llama3:
            out = "<|begin_of_text|>"
            for m in messages { out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(m.content.trimmingCharacters(in: .whitespacesAndNewlines))<|eot_id|>" }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" + assistantPrefix }
        case .llama2, .llama2Paper:
            let paper = format == .llama2Paper
            var system: String?
            var rest = messages[...]
            if let first = rest.first, first.role == "system" {
                system = first.content
                rest = rest.dropFirst()
            }
            var pendingUser = false
            for m in rest {
                if m.role == "assistant" {
                    out += paper ? " \(m.content)" : " \(m.content) </s>"
                    pendingUser = false
                } else {
                    var content = m.content
                    if let s = system {
                        content = paper ? "<<SYS>> \(s) <</SYS>> \(content)" : "<<SYS>>\n\(s)\n<</SYS>>\n\n\(content)"
                        system = nil
                    }
                    out += paper ? (out.isEmpty ? "" : " ") + "[INST] \(content) [/INST]" : "<s>[INST] \(content) [/INST]"
                    pendingUser = true
                }
            }
            if addGenerationPrompt && pendingUser && (paper || !assistantPrefix.isEmpty) { out += " " + assistantPrefix }
        }
        return out
    }
}
