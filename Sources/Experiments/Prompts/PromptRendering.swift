import ModelFormats

extension PromptSpec {
    /// The text to tokenize for a model using `template`: the paper's literal strings for `llama2-paper`
    /// (`Llama2PaperFormat`, which keeps each prompt's own answer separator), the same contents through the
    /// model's chat format otherwise, the assistant turn opened with `assistantPrefix`.
    public func render(_ template: ChatTemplate) -> String {
        if template.format == .llama2Paper { return Llama2PaperFormat.render(self) }
        let turns = messages.filter { $0.role != .assistant }.map { ChatMessage(role: $0.role.rawValue, content: $0.content) }
        return template.render(turns, addGenerationPrompt: true, assistantPrefix: assistantPrefix)
    }
}

extension PromptSpec {
    /// The token ids of this prompt for a model using `template` (BOS as the template or tokenizer asks;
    /// special tokens in the rendered text recognised).
    public func tokens(_ tokenizer: Tokenizer, template: ChatTemplate) -> [Int] {
        tokenizer.encode(render(template), addBOS: template.prependsBOS ? true : nil, parseSpecial: true)
    }
}
