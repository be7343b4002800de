/// A chat format: turns a conversation into the exact text a model was trained on. Four formats are built in —
/// ChatML (SmolLM2, Qwen), Llama-2-chat, Llama-3-instruct, and the single-line Llama-2 variant of the
/// Representation Tuning paper (`llama2-paper`, METHOD.md §2). A model's own Jinja template is recognised by
/// `detect(jinja:)` (it is not executed); a format can also be named (`ChatTemplate(named: "chatml")`).
public struct ChatTemplate: Sendable, Equatable {
    /// The built-in formats, by the names `init(named:)` accepts.
    public enum Format: String, Sendable, Equatable, CaseIterable, Codable {
        /// `<|im_start|>{role}\n{content}<|im_end|>\n` per turn; generation prompt `<|im_start|>assistant\n`.
        case chatml
        /// `<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s>` (Llama-2-chat).
        case llama2
        /// `<|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>` (Llama 3).
        case llama3
        /// `[INST] <<SYS>> {system} <</SYS>> {user} [/INST] {assistant}` on one line, BOS prepended by the
        /// tokenizer (the paper's prompts).
        case llama2Paper = "llama2-paper"
    }

    public var format: Format
    /// ChatML: the system turn inserted when a conversation does not start with one (SmolLM2's
    /// "You are a helpful AI assistant named SmolLM, trained by Hugging Face").
    public var defaultSystemPrompt: String?

    public init(format: Format, defaultSystemPrompt: String? = nil) {
        self.format = format
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// The format named `name` (`chatml`, `llama2`, `llama3`, `llama2-paper`).
    public init(named name: String, defaultSystemPrompt: String? = nil) throws {
        guard let f = Format(rawValue: name) else { throw ChatTemplateError.unknownName(name) }
        self.init(format: f, defaultSystemPrompt: defaultSystemPrompt)
    }

    /// Whether text rendered with this template should be encoded with BOS prepended: true for `llama2-paper`
    /// (its strings carry no BOS); false for the others, whose text either writes the BOS token itself
    /// (`llama2`, `llama3`, encode it with `parseSpecial: true`) or has none (ChatML).
    public var prependsBOS: Bool { format == .llama2Paper }

    /// Renders a conversation. With `addGenerationPrompt`, an assistant turn is opened after the last message and
    /// continued with `assistantPrefix` (e.g. the label `A` of a contrast prompt); without it, only the given
    /// turns are written and `assistantPrefix` is ignored.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, assistantPrefix: String = "") -> String {
        switch format {
        case .chatml: renderChatML(messages, addGenerationPrompt, assistantPrefix)
        case .llama2: renderLlama2(messages, addGenerationPrompt, assistantPrefix)
        case .llama3: renderLlama3(messages, addGenerationPrompt, assistantPrefix)
        case .llama2Paper: renderPaper(messages, addGenerationPrompt, assistantPrefix)
        }
    }

    /// The conversation with an open assistant turn that starts with `assistantPrefix`.
    public func render(_ messages: [ChatMessage], assistantPrefix: String) -> String {
        render(messages, addGenerationPrompt: true, assistantPrefix: assistantPrefix)
    }

    private func renderChatML(_ messages: [ChatMessage], _ open: Bool, _ prefix: String) -> String {
        var out = ""
        if let first = messages.first, first.role != "system", let system = defaultSystemPrompt {
            out += "<|im_start|>system\n\(system)<|im_end|>\n"
        }
        for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        if open { out += "<|im_start|>assistant\n" + prefix }
        return out
    }

    /// Llama-2-chat as its Hugging Face template writes it: the system text folded into the first user turn,
    /// every user turn `<s>[INST] … [/INST]`, every assistant turn ` … </s>`, contents stripped of surrounding
    /// white space.
    private func renderLlama2(_ messages: [ChatMessage], _ open: Bool, _ prefix: String) -> String {
        var turns = messages[...]
        var system: String?
        if let first = turns.first, first.role == "system" {
            system = first.content
            turns = turns.dropFirst()
        }
        var out = ""
        for (i, m) in turns.enumerated() {
            var content = m.content
            if i == 0, let system { content = "<<SYS>>\n\(system)\n<</SYS>>\n\n" + content }
            if m.role == "assistant" {
                out += " " + Self.trimmed(content) + " </s>"
            } else {
                out += "<s>[INST] " + Self.trimmed(content) + " [/INST]"
            }
        }
        if open && !prefix.isEmpty { out += " " + prefix }
        return out
    }

    private func renderLlama3(_ messages: [ChatMessage], _ open: Bool, _ prefix: String) -> String {
        var out = "<|begin_of_text|>"
        for m in messages {
            out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n" + Self.trimmed(m.content) + "<|eot_id|>"
        }
        if open { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" + prefix }
        return out
    }

    /// The paper's tags: user `[INST] `, assistant ` [/INST]`, system `<<SYS>> ` … ` <</SYS>>`, one space between
    /// the system part and the user text, and the open assistant turn ` [/INST] {prefix}`.
    private func renderPaper(_ messages: [ChatMessage], _ open: Bool, _ prefix: String) -> String {
        var system: String?
        var out = ""
        for m in messages {
            switch m.role {
            case "system":
                system = m.content
            case "assistant":
                out += " " + m.content
            default:
                if !out.isEmpty { out += " " }
                out += "[INST] "
                if let s = system { out += "<<SYS>> \(s) <</SYS>> " }
                system = nil
                out += m.content + " [/INST]"
            }
        }
        if open { out += " " + prefix }
        return out
    }

    private static func trimmed(_ s: String) -> String {
        var sub = Substring(s)
        while let c = sub.first, c.isWhitespace { sub.removeFirst() }
        while let c = sub.last, c.isWhitespace { sub.removeLast() }
        return String(sub)
    }

    // MARK: - Detection

    /// The built-in format a Jinja chat template writes, recognised from its literal text (`<|im_start|>`,
    /// `<|start_header_id|>`, `[INST]` with `<<SYS>>`); nil when it is none of them. For ChatML, a literal
    /// default system turn (`'<|im_start|>system\n…<|im_end|>'`) becomes `defaultSystemPrompt`.
    public static func detect(jinja: String) -> ChatTemplate? {
        if jinja.contains("<|start_header_id|>") && jinja.contains("<|eot_id|>") { return ChatTemplate(format: .llama3) }
        if jinja.contains("<|im_start|>") {
            return ChatTemplate(format: .chatml, defaultSystemPrompt: defaultChatMLSystem(jinja))
        }
        if jinja.contains("[INST]") && jinja.contains("<<SYS>>") { return ChatTemplate(format: .llama2) }
        return nil
    }

    /// The built-in format of a GGUF file's `tokenizer.chat_template`, if it has one that is recognised.
    public static func detect(gguf file: GGUFFile) -> ChatTemplate? {
        file.metadata["tokenizer.chat_template"]?.string.flatMap { detect(jinja: $0) }
    }

    /// The literal text of a `<|im_start|>system\n…<|im_end|>` inside a Jinja string, with its escapes resolved.
    static func defaultChatMLSystem(_ jinja: String) -> String? {
        for opener in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            var rest = Substring(jinja)
            while let start = rest.firstRange(of: opener) {
                rest = rest[start.upperBound...]
                guard let end = rest.firstRange(of: "<|im_end|>") else { break }
                let body = rest[..<end.lowerBound]
                // A Jinja expression (quote, brace, concatenation) means the text is not a literal.
                if body.contains(where: { "'\"{}+".contains($0) }) { continue }
                return unescapeJinja(String(body))
            }
        }
        return nil
    }

    private static func unescapeJinja(_ s: String) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// A chat template that cannot be chosen.
public enum ChatTemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    case unknownName(String)

    public var description: String {
        switch self {
        case .unknownName(let name):
            "unknown chat template \"\(name)\"; expected one of: "
                + ChatTemplate.Format.allCases.map(\.rawValue).joined(separator: ", ")
        }
    }
}
