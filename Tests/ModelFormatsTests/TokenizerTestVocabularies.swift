import ModelFormats

/// Small hand-made vocabularies whose encodings are derived by hand in the tests.
enum TestVocabularies {
    /// Byte-level BPE: the 256 byte characters as ids 0…255 (id = byte value), then merged tokens, then specials.
    /// Merges by rank: Ġ w, o r, Ġw or, l d, Ġwor ld, h e, l l, he ll, hell o, b c, a b.
    static func byteLevel(pre: String = "gpt2") -> TokenizerVocabulary {
        var tokens = (0..<256).map { byteLevelSpelling(UInt8($0)) }
        tokens += ["Ġw", "or", "Ġwor", "ld", "Ġworld", "he", "ll", "hell", "hello", "bc", "ab"]  // 256…266
        tokens += ["<|im_start|>", "<|im_end|>", "<tool>"]  // 267, 268, 269
        var types = [TokenizerVocabulary.TokenType](repeating: .normal, count: tokens.count)
        types[267] = .control
        types[268] = .control
        types[269] = .userDefined
        return TokenizerVocabulary(
            model: .byteLevelBPE, tokens: tokens, tokenTypes: types,
            merges: ["Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "h e", "l l", "he ll", "hell o", "b c", "a b"],
            bosID: 267, eosID: 268, addBOS: false, preTokenizer: pre)
    }

    /// GPT-2's byte → character map, written out from its definition: printable Latin-1 bytes stand for
    /// themselves, the others take U+0100… in byte order.
    static func byteLevelSpelling(_ b: UInt8) -> String {
        func printable(_ x: Int) -> Bool { (33...126).contains(x) || (161...172).contains(x) || (174...255).contains(x) }
        if printable(Int(b)) { return String(Unicode.Scalar(b)) }
        let rank = (0..<Int(b)).filter { !printable($0) }.count
        return String(Unicode.Scalar(UInt16(256 + rank))!)
    }

    /// SentencePiece (Llama-2 layout): <unk> 0, <s> 1, </s> 2, <0x00>…<0xFF> 3…258, then pieces 259… with scores.
    static let pieces: [(String, Float)] = [
        ("▁", -100), ("h", -100), ("e", -100), ("l", -100), ("o", -100), ("w", -100), ("r", -100), ("d", -100),  // 259…266
        ("he", -1), ("ll", -2), ("hell", -3), ("hello", -4), ("▁hello", -5), ("llo", -6), ("lo", -7),  // 267…273
        ("▁w", -8), ("or", -9), ("▁wor", -10), ("ld", -11), ("▁world", -12),  // 274…278
    ]

    static func sentencePiece() -> TokenizerVocabulary {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [TokenizerVocabulary.TokenType] = [.unknown, .control, .control]
        for b in 0..<256 {
            let hex = String(b, radix: 16, uppercase: true)
            tokens.append("<0x" + (hex.count == 1 ? "0" : "") + hex + ">")
            types.append(.byte)
        }
        var scores = [Float](repeating: 0, count: tokens.count)
        for (p, s) in pieces {
            tokens.append(p)
            types.append(.normal)
            scores.append(s)
        }
        return TokenizerVocabulary(model: .sentencePiece, tokens: tokens, tokenTypes: types, scores: scores,
                                   bosID: 1, eosID: 2, unknownID: 0, addBOS: true, addSpacePrefix: true)
    }
}
