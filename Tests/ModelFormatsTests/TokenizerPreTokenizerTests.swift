import ModelFormats
import Testing

/// The pre-tokenizer matchers against splits worked out by hand from each regular expression.
struct TokenizerPreTokenizerTests {
    typealias P = Tokenizer.PreTokenizer

    @Test func gpt2() {
        let p = P.gpt2
        #expect(p.words(in: "Hello world") == ["Hello", " world"])
        #expect(p.words(in: "I'm  here\n\n") == ["I", "'m", " ", " here", "\n\n"])
        #expect(p.words(in: "abc123def 42!!") == ["abc", "123", "def", " 42", "!!"])
        #expect(p.words(in: "x\ty") == ["x", "\t", "y"])
        #expect(p.words(in: "'sup DON'T") == ["'s", "up", " DON", "'", "T"])
        #expect(p.words(in: "¿qué? 日本語 テキスト") == ["¿", "qué", "?", " 日本語", " テキスト"])
        #expect(p.words(in: "e\u{301}té") == ["e", "\u{301}", "té"])  // a combining mark is neither L nor N
        #expect(p.words(in: "a \n b") == ["a", " \n", " b"])
        #expect(p.words(in: "") == [])
    }

    @Test func smollmIsolatesEveryNumber() {
        let p = P.smollm
        #expect(p.words(in: "abc123def") == ["abc", "1", "2", "3", "def"])
        #expect(p.words(in: "a 12") == ["a", " ", "1", "2"])
        #expect(p.words(in: "x² ½") == ["x", "²", " ", "½"])
        #expect(p.words(in: "v2.0 rocks") == ["v", "2", ".", "0", " rocks"])
    }

    @Test func llama3() {
        let p = P.llama3
        #expect(p.words(in: "Hello world") == ["Hello", " world"])
        #expect(p.words(in: "I'M here") == ["I", "'M", " here"])
        #expect(p.words(in: "12345 3.14") == ["123", "45", " ", "3", ".", "14"])
        #expect(p.words(in: "(hello)") == ["(hello", ")"])
        #expect(p.words(in: "a\n\n  b") == ["a", "\n\n", " ", " b"])
        #expect(p.words(in: "x!!\n\ny") == ["x", "!!\n\n", "y"])
        #expect(p.words(in: "\tfoo  ") == ["\tfoo", "  "])
        #expect(p.words(in: "a \r\n b") == ["a", " \r\n", " b"])
    }

    @Test func qwen2SplitsSingleNumbers() {
        let p = P.qwen2
        #expect(p.words(in: "12345") == ["1", "2", "3", "4", "5"])
        #expect(p.words(in: "I'M (ok)") == ["I", "'M", " (", "ok", ")"])
    }

    @Test func ggufNames() {
        #expect(P(ggufName: "default") == .gpt2)
        #expect(P(ggufName: "smollm") == .smollm)
        #expect(P(ggufName: "llama-bpe") == .llama3)
        #expect(P(ggufName: "qwen2") == .qwen2)
        #expect(P(ggufName: "deepseek-llm") == nil)
    }

    @Test func wordsTileTheText() {
        let text = "Zoë’s café — 東京 🚀\r\n\t 123,456.78 DON'T   stop!!!\n"
        for p in P.allCases { #expect(p.words(in: text).joined() == text, "\(p)") }
    }
}
