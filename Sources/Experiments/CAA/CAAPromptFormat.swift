import Foundation
import ModelFormats

/// How CAA's prompts are written for a model: the paper's Llama-2 form (`[INST] q [/INST] (A)`, `CAAPrompt`) or the
/// model's own chat template (the question as the user turn, the answer opening the assistant turn). Each gives the
/// tokens of a prompt and the marker whose last token starts steering (`InstructionEnd`): ` [/INST]`, or the
/// template's assistant header (what the template writes to open the assistant's turn).
public enum CAAPromptFormat: Sendable, Equatable {
    case llama2Paper
    case chat(ChatTemplate)

    /// The stage parameter's names: `llama2-paper` or `chat`.
    public static let names = ["llama2-paper", "chat"]

    public init(name: String, template: ChatTemplate) {
        self = name == "chat" ? .chat(template) : .llama2Paper
    }

    /// The text of `question` answered with `answer` (`(A)`, or `(` for A/B scoring, or nothing for open-ended
    /// generation), with the system prompt when there is one.
    public func text(question: String, answer: String?, systemPrompt: String?) -> String {
        switch self {
        case .llama2Paper:
            return CAAPrompt.llama2(question: question, answer: answer, systemPrompt: systemPrompt)
        case .chat(let template):
            var turns: [ChatMessage] = []
            if let systemPrompt { turns.append(.system(systemPrompt)) }
            turns.append(.user(question.trimmingCharacters(in: .whitespacesAndNewlines)))
            return template.render(turns, assistantPrefix: answer?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        }
    }

    /// The prompt's tokens (the paper's form with BOS, as CAA's `tokenizer.encode` and the `llama2-paper` preset add it; a chat
    /// template's special tokens recognised).
    public func tokens(question: String, answer: String?, systemPrompt: String?, tokenizer: Tokenizer) -> [Int] {
        switch self {
        case .llama2Paper:
            return tokenizer.encode(text(question: question, answer: answer, systemPrompt: systemPrompt), addBOS: true)
        case .chat(let template):
            return tokenizer.encode(text(question: question, answer: answer, systemPrompt: systemPrompt),
                                    addBOS: template.prependsBOS ? true : nil, parseSpecial: true)
        }
    }

    /// The tokens of the instruction-end marker: ` [/INST]` as CAA encodes it after the question's space, or the
    /// text a chat template adds to open the assistant's turn (its generation prompt), each without BOS.
    public func marker(tokenizer: Tokenizer) -> [Int] {
        switch self {
        case .llama2Paper:
            return tokenizer.encode(" " + CAAPrompt.instructionEnd, addBOS: false)
        case .chat(let template):
            let turns: [ChatMessage] = [.user("q")]
            let open = template.render(turns, addGenerationPrompt: true), closed = template.render(turns, addGenerationPrompt: false)
            let header = open.hasPrefix(closed) ? String(open.dropFirst(closed.count)) : open
            return tokenizer.encode(header, addBOS: false, parseSpecial: true)
        }
    }

    /// The position steering starts at in `tokens` (the last token of the marker's last occurrence).
    public func steeringStart(in tokens: [Int], tokenizer: Tokenizer) throws -> Int {
        try InstructionEnd.position(in: tokens, marker: marker(tokenizer: tokenizer))
    }
}
