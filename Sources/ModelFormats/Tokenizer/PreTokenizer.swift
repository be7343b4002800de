/// Splits text into the pieces BPE runs on, reproducing the regular expressions named by `tokenizer.ggml.pre`
/// with hand-written matchers over Unicode scalars (Python/Oniguruma semantics: `\p{L}` letters, `\p{N}` numbers,
/// `\s` White_Space).
public struct PreTokenizer: Sendable, Equatable {
    /// The splitting rule.
    public enum Rule: String, Sendable, CaseIterable {
        /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
        case gpt2
        /// SmolLM: every `\p{N}` on its own first, then the GPT-2 rule on the rest.
        case smollm
        /// Llama 3: case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`,
        /// ` ?[^\s\p{L}\p{N}]+[\r\n]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
        case llama3
        /// Qwen2: the Llama 3 rule with single digits `\p{N}`.
        case qwen2
    }

    public var rule: Rule

    public init(rule: Rule) { self.rule = rule }

    /// The rule for a `tokenizer.ggml.pre` name; unknown names fall back to GPT-2's rule.
    public init(ggmlName: String) {
        switch ggmlName {
        case "smollm", "starcoder", "refact", "codeshell": rule = .smollm
        case "llama3", "llama-bpe", "llama-v3", "falcon3", "pixtral", "tekken": rule = .llama3
        case "qwen2", "deepseek-r1-qwen", "stablelm2": rule = .qwen2
        default: rule = .gpt2
        }
    }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }
    static func isNewline(_ s: Unicode.Scalar) -> Bool { s == "\r" || s == "\n" }

    /// The pieces of `text`, in order; concatenated they give `text` back.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces = [String]()
        func emit(_ r: Range<Int>) {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            pieces.append(String(s))
        }
        switch rule {
        case .gpt2, .llama3, .qwen2:
            splitSegment(scalars, 0..<scalars.count, emit)
        case .smollm:
            var start = 0
            for i in scalars.indices where Self.isNumber(scalars[i]) {
                if start < i { splitSegment(scalars, start..<i, emit) }
                emit(i..<(i + 1))
                start = i + 1
            }
            if start < scalars.count { splitSegment(scalars, start..<scalars.count, emit) }
        }
        return pieces
    }

    private func splitSegment(_ s: [Unicode.Scalar], _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let n = rule == .gpt2 || rule == .smollm ? matchGPT2(s, i, end) : matchLlama3(s, i, end)
            emit(i..<(i + n))
            i += n
        }
    }

    /// Length of `'s|'t|'re|'ve|'m|'ll|'d` at `i` (0 if none).
    private func contraction(_ s: [Unicode.Scalar], _ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard s[i] == "'", i + 1 < end else { return 0 }
        func lower(_ k: Int) -> Unicode.Scalar? {
            guard k < end else { return nil }
            let c = s[k]
            if caseInsensitive, c.isASCII, let u = Unicode.Scalar(c.value | 0x20), ("A"..."Z").contains(c) { return u }
            return c
        }
        let a = lower(i + 1), b = lower(i + 2)
        if a == "s" || a == "t" || a == "m" || a == "d" { return 2 }
        if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return 3 }
        return 0
    }

    private func run(_ s: [Unicode.Scalar], from i: Int, _ end: Int, _ predicate: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        while j < end && predicate(s[j]) { j += 1 }
        return j - i
    }

    private static func isOther(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }

    /// `\s+(?!\S)|\s+` at `i` (a whitespace run is there): the run, minus its last scalar when a non-space follows.
    private func whitespace(_ s: [Unicode.Scalar], _ i: Int, _ end: Int) -> Int {
        let n = run(s, from: i, end, Self.isSpace)
        if i + n == end || n == 1 { return n }
        return n - 1
    }

    private func matchGPT2(_ s: [Unicode.Scalar], _ i: Int, _ end: Int) -> Int {
        let c = contraction(s, i, end, caseInsensitive: false)
        if c > 0 { return c }
        let space = s[i] == " " && i + 1 < end ? 1 : 0
        let next = s[i + space]
        if Self.isLetter(next) { return space + run(s, from: i + space, end, Self.isLetter) }
        if Self.isNumber(next) { return space + run(s, from: i + space, end, Self.isNumber) }
        if Self.isOther(next) { return space + run(s, from: i + space, end, Self.isOther) }
        return whitespace(s, i, end)
    }

    private func matchLlama3(_ s: [Unicode.Scalar], _ i: Int, _ end: Int) -> Int {
        let c = contraction(s, i, end, caseInsensitive: true)
        if c > 0 { return c }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if Self.isLetter(s[i]) { return run(s, from: i, end, Self.isLetter) }
        if !Self.isNewline(s[i]) && !Self.isLetter(s[i]) && !Self.isNumber(s[i]) && i + 1 < end && Self.isLetter(s[i + 1]) {
            return 1 + run(s, from: i + 1, end, Self.isLetter)
        }
        // \p{N}{1,3} (Qwen2: \p{N})
        if Self.isNumber(s[i]) { return min(run(s, from: i, end, Self.isNumber), rule == .qwen2 ? 1 : 3) }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        let space = s[i] == " " && i + 1 < end && Self.isOther(s[i + 1]) ? 1 : 0
        if Self.isOther(s[i + space]) {
            let n = space + run(s, from: i + space, end, Self.isOther)
            return n + run(s, from: i + n, end, Self.isNewline)
        }
        // \s*[\r\n]+ : the longest whitespace prefix that ends in a run of newlines.
        let ws = run(s, from: i, end, Self.isSpace)
        var lastNewline = -1
        for k in i..<(i + ws) where Self.isNewline(s[k]) { lastNewline = k }
        if lastNewline >= 0 { return lastNewline + 1 - i }
        return whitespace(s, i, end)
    }
}
