import ModelFormats
import Testing

/// Byte-level BPE on a hand-made vocabulary (ids of single bytes = byte values), expected ids derived by hand
/// from the merge ranks.
struct TokenizerByteLevelTests {
    let t: Tokenizer

    init() throws { t = try Tokenizer(vocabulary: TestVocabularies.byteLevel()) }

    @Test func byteAlphabetFollowsGPT2() {
        // Space → Ġ (U+0120), newline → Ċ (U+010A), NUL → Ā (U+0100), soft hyphen 0xAD → Ń (U+0143).
        #expect(t.token(0x20) == "Ġ")
        #expect(t.token(0x0A) == "Ċ")
        #expect(t.token(0x00) == "Ā")
        #expect(t.token(0xAD) == "Ń")
        #expect(t.token(0x41) == "A")
        #expect(t.piece(0x20) == " ")
    }

    @Test func mergesApplyByRank() {
        // "hello": he (rank 5) before ll (6), then hell (7), hello (8). " world": Ġw, or, Ġwor, ld, Ġworld.
        #expect(t.encode("hello world") == [264, 260])
        // "abc": (b c) has rank 9, (a b) rank 10, so bc wins although ab is further left.
        #expect(t.encode("abc") == [97, 265])
        #expect(t.encode("ab") == [266])
        // Equal ranks: the leftmost (l l) merges first.
        #expect(t.encode("lll") == [262, 108])
        // Bytes of characters outside the merges stay single bytes: é = C3 A9.
        #expect(t.encode("é") == [0xC3, 0xA9])
    }

    @Test func longWordsMergeLikeShortOnes() {
        // One pre-token of 1001 l's: the leftmost pairs merge first, and "llll" is not a token.
        #expect(t.encode(String(repeating: "l", count: 1001)) == Array(repeating: 262, count: 500) + [108])
        #expect(t.encode(String(repeating: "hello", count: 2000)) == Array(repeating: 264, count: 2000))
    }

    @Test func ignoreMergesTakesWholeWordsFromTheVocabulary() throws {
        var v = TestVocabularies.byteLevel(pre: "llama3")
        v.tokens.append("abc")  // 270: not reachable by the merges (b c wins, then a + bc has no merge)
        v.tokenTypes.append(.normal)
        #expect(try Tokenizer(vocabulary: v).encode("abc abc") == [97, 265, 32, 97, 265])
        v.ignoreMerges = true
        #expect(try Tokenizer(vocabulary: v).encode("abc abc") == [270, 32, 97, 265])
    }

    @Test func specialTokensOnlyWhenParsed() {
        #expect(t.encode("<|im_start|>hello<|im_end|>") == [267, 264, 268])
        #expect(t.encode("<tool>") == [269])
        #expect(t.encode("<tool>", parseSpecial: false) == [60, 116, 111, 111, 108, 62])
        let asText = t.encode("<|im_start|>hello<|im_end|>", parseSpecial: false)
        #expect(!asText.contains(267) && !asText.contains(268))
        #expect(t.decode(asText) == "<|im_start|>hello<|im_end|>")
        // Longest match at each position; an unterminated special is plain text.
        #expect(t.encode("<|im_start|") == t.encode("<|im_start|", parseSpecial: false))
    }

    @Test func bosAndEOS() {
        #expect(t.encode("ab", addBOS: true) == [267, 266])
        #expect(t.encode("ab", addBOS: true, addEOS: true) == [267, 266, 268])
        #expect(t.encode("", addBOS: true) == [267])
        #expect(t.encode("") == [])
    }

    @Test func decodingJoinsBytesAcrossTokens() {
        #expect(t.decode([0xC3, 0xA9]) == "é")
        #expect(t.decode([0xC3]) == "\u{FFFD}")
        #expect(t.piece(0xC3) == "<0xC3>")
        #expect(t.decode([267, 264, 268]) == "<|im_start|>hello<|im_end|>")
        #expect(t.decode([267, 264, 268], skipSpecial: true) == "hello")
        #expect(t.decode([269], skipSpecial: true) == "<tool>")  // user-defined tokens are text
        #expect(t.decode([264, -1, 1_000_000]) == "hello")  // ids outside the vocabulary are skipped
        #expect(t.piece(1_000_000) == "<invalid id 1000000>")
    }

    @Test func streamDecoderHoldsBackPartialCharacters() {
        var d = TokenStreamDecoder(tokenizer: t)
        // 🚀 = F0 9F 9A 80, one byte token each.
        #expect(d.append(264) == "hello")
        #expect(d.append(0xF0) == "")
        #expect(d.append(0x9F) == "")
        #expect(d.append(0x9A) == "")
        #expect(d.append(0x80) == "🚀")
        #expect(d.append(268) == "")  // special skipped
        #expect(d.append(0xC3) == "")
        #expect(d.finish() == "\u{FFFD}")
    }

    @Test func stopTokens() throws {
        #expect(t.stopTokenIDs == [268])  // EOS; <|im_end|> is the EOS here
        var v = TestVocabularies.byteLevel()
        v.eosID = nil
        #expect(try Tokenizer(vocabulary: v).stopTokenIDs == [268])  // <|im_end|> by name
    }

    @Test func badVocabulariesAreRejectedWithReasons() throws {
        func message(_ change: (inout TokenizerVocabulary) -> Void) -> String {
            var v = TestVocabularies.byteLevel()
            change(&v)
            do {
                _ = try Tokenizer(vocabulary: v)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(message { $0.preTokenizer = "deepseek-llm" }.contains("expected one of default, gpt2, smollm"))
        #expect(message { $0.merges.append("x yz") }.contains("merges[11]: the right token \"yz\" is not in the vocabulary"))
        #expect(message { $0.merges.append("xy") }.contains("merges[11]: expected two tokens separated by a space"))
        #expect(message { $0.merges.append("a c") }.contains("the merged token \"ac\" is not in the vocabulary"))
        #expect(message { $0.tokenTypes.removeLast() }.contains("expected one type per token (270), found 269"))
        #expect(message { $0.bosID = 270 }.contains("bos id: expected a token id in 0..<270, found 270"))
        #expect(message { $0.merges = [] }.contains("byte-level BPE needs merges"))
        #expect(message { $0.tokens = []; $0.tokenTypes = [] }.contains("expected at least one token"))
        #expect(message { $0.bosID = nil; $0.addBOS = true }.contains("no BOS id"))
    }
}
