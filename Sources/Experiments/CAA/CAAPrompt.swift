/// CAA's prompts in the paper's Llama-2 form (`[INST] q [/INST] (`): the system block, when there is one, comes
/// before `[INST]` (CAA's `tokenize_llama_chat`), the question and answer are stripped, and the tokenizer adds BOS.
public enum CAAPrompt {
    /// The token text after which steering starts: the end of the instruction.
    public static let instructionEnd = "[/INST]"

    /// `[<<SYS>>\n system \n<</SYS>>\n\n][INST] question [/INST][ answer]`.
    public static func llama2(question: String, answer: String? = nil, systemPrompt: String? = nil) -> String {
        var text = ""
        if let systemPrompt { text += "<<SYS>>\n" + systemPrompt + "\n<</SYS>>\n\n" }
        text += "[INST] \(question.trimmingCharacters(in: .whitespacesAndNewlines)) \(instructionEnd)"
        if let answer { text += " " + answer.trimmingCharacters(in: .whitespacesAndNewlines) }
        return text
    }

    /// The A/B scoring prompt: the question answered with `(`, so that the next token is the letter.
    public static func abScoring(question: String, systemPrompt: String? = nil) -> String {
        llama2(question: question, answer: "(", systemPrompt: systemPrompt)
    }
}
