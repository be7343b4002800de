import ModelFormats
import Testing

/// SentencePiece BPE (Llama 2 style) on a hand-made vocabulary; expected ids derived by hand from the scores:
/// the adjacent pair whose merged piece has the highest score merges first, leftmost on ties.
struct TokenizerSentencePieceTests {
    let t: Tokenizer

    init() throws { t = try Tokenizer(vocabulary: TestVocabularies.sentencePiece()) }

    @Test func mergesByScore() {
        // ▁ h e l l o ▁ w o r l d: he(-1), ll(-2), hell(-3), hello(-4), ▁hello(-5), ▁w(-8), or(-9), ▁wor(-10),
        // ld(-11), ▁world(-12); llo(-6) and lo(-7) lose to hell once he and ll are formed.
        #expect(t.encode("hello world", addBOS: false) == [271, 278])
        #expect(t.encode("hello world") == [1, 271, 278])  // add_bos by default
        #expect(t.encode("hello  world", addBOS: false) == [271, 259, 278])
        #expect(t.encode(" hello", addBOS: false) == [259, 271])
    }

    @Test func equalScoresMergeLeftmostFirst() {
        // ▁ l l l: both (l, l) pairs score -2; the left one merges, "lll" is not a piece.
        #expect(t.encode("lll", addBOS: false) == [259, 268, 262])
    }

    @Test func byteFallbackForCharactersOutsideTheVocabulary() {
        // é = C3 A9 → <0xC3> (3 + 0xC3 = 198), <0xA9> (3 + 0xA9 = 172); 🙂 = F0 9F 99 82.
        #expect(t.encode("hé", addBOS: false) == [259, 260, 198, 172])
        #expect(t.encode("🙂", addBOS: false) == [259, 3 + 0xF0, 3 + 0x9F, 3 + 0x99, 3 + 0x82])
        #expect(t.decode([259, 260, 198, 172]) == "hé")
        #expect(t.piece(198) == "<0xC3>")
        #expect(t.decode([260, 3 + 0xF0, 3 + 0x9F]) == "h\u{FFFD}")
    }

    @Test func specialTokensOnlyWhenParsed() {
        // After a special token the text gets its own ▁ prefix, as in llama.cpp and HF's legacy Llama tokenizer.
        #expect(t.encode("<s>hello", addBOS: false) == [1, 271])
        // As text: ▁ < s > h e l l o → <, s, > fall back to bytes; hello merges without a ▁ before it.
        #expect(t.encode("<s>hello", addBOS: false, parseSpecial: false) == [259, 3 + 0x3C, 3 + 0x73, 3 + 0x3E, 270])
        #expect(t.encode("hello</s>", addBOS: false) == [271, 2])
        #expect(t.encode("hello", addBOS: false, addEOS: true) == [271, 2])
    }

    @Test func decodingStripsTheAddedSpaceOnly() {
        #expect(t.decode([1, 271, 278]) == "<s> hello world")
        #expect(t.decode([1, 271, 278], skipSpecial: true) == "hello world")
        #expect(t.decode([259, 271]) == " hello")
        #expect(t.piece(278) == " world")
        #expect(t.token(278) == "▁world")
    }

    @Test func roundTrip() {
        for text in ["hello world", " hello", "hello  world ", "hé", "world\nhello", "🙂 日本", "", "   ", "e\u{301}"] {
            #expect(t.decode(t.encode(text, addBOS: false, parseSpecial: false)) == text, "\(text.debugDescription)")
            #expect(t.decode(t.encode(text), skipSpecial: true) == text, "\(text.debugDescription)")
        }
    }

    @Test func mergesGivenExplicitlyReplaceScores() throws {
        // The same vocabulary with HF-style merges ranked in score order gives the same ids.
        var v = TestVocabularies.sentencePiece()
        v.merges = ["h e", "l l", "he ll", "hell o", "▁ hello", "ll o", "l o", "▁ w", "o r", "▁w or", "l d", "▁wor ld"]
        let m = try Tokenizer(vocabulary: v)
        for text in ["hello world", "hello  world", "lll", "hé", "<s>hello"] {
            #expect(m.encode(text) == t.encode(text), "\(text)")
        }
    }
}
