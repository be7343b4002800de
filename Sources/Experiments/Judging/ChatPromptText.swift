import Foundation

/// The user's text inside a prompt stored already rendered through a chat template (the `prompt` of stored
/// generations), so a judge sees the question rather than template markup. Recognises ChatML, Llama-3 and the
/// Llama-2 forms (`[INST] … [/INST]`, with or without a `<<SYS>>` block); other text is returned unchanged.
public enum ChatPromptText {
    /// The content of the last user turn of `rendered`, or `rendered` itself when it has no known markup.
    public static func userText(_ rendered: String) -> String {
        if let text = between(rendered, open: "<|im_start|>user\n", close: "<|im_end|>") { return text }
        if let text = between(rendered, open: "<|start_header_id|>user<|end_header_id|>\n\n", close: "<|eot_id|>") {
            return text
        }
        if var text = between(rendered, open: "[INST]", close: "[/INST]") {
            if let sys = text.range(of: "<</SYS>>", options: .backwards) { text = String(text[sys.upperBound...]) }
            return trimmed(text)
        }
        return rendered
    }

    /// The text between the last `open` and the next `close` (or the end).
    private static func between(_ s: String, open: String, close: String) -> String? {
        guard let start = s.range(of: open, options: .backwards) else { return nil }
        let rest = s[start.upperBound...]
        let end = rest.range(of: close)?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    private static func trimmed(_ s: String) -> String {
        var sub = Substring(s)
        while let c = sub.first, c == " " || c == "\n" { sub.removeFirst() }
        while let c = sub.last, c == " " || c == "\n" { sub.removeLast() }
        return String(sub)
    }
}
