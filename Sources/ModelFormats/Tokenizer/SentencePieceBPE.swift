/// SentencePiece BPE as Llama 2 uses it: spaces become `▁`, symbols merge greedily by the score of the merged
/// token, and characters missing from the vocabulary fall back to `<0xNN>` byte tokens.
struct SentencePieceBPE: Sendable {
    let ids: [String: Int]
    let scores: [Float]
    let byteTokens: [Int?]
    let unknownID: Int?

    init(vocabulary v: TokenizerVocabulary, ids: [String: Int]) {
        self.ids = ids
        scores = v.scores.count == v.tokens.count ? v.scores : Array(repeating: 0, count: v.tokens.count)
        byteTokens = (0..<256).map { ids[String(format: "<0x%02X", $0) + ">"] }
        unknownID = v.unknownID
    }

    /// Token ids of a text segment (no special tokens inside); `▁` already substituted for spaces.
    func encode(_ text: String) -> [Int] {
        // Start from single characters; a character missing from the vocabulary becomes its UTF-8 bytes.
        var symbols = [(text: String, id: Int?)]()
        for ch in text {
            let s = String(ch)
            symbols.append((s, ids[s]))
        }
        while symbols.count > 1 {
            var best = -1
            var bestScore = -Float.infinity
            var bestID = 0
            for k in 0..<(symbols.count - 1) {
                if let id = ids[symbols[k].text + symbols[k + 1].text], scores[id] > bestScore {
                    best = k
                    bestScore = scores[id]
                    bestID = id
                }
            }
            if best < 0 { break }
            symbols[best] = (symbols[best].text + symbols[best + 1].text, bestID)
            symbols.remove(at: best + 1)
        }
        var out = [Int]()
        for s in symbols {
            if let id = s.id {
                out.append(id)
            } else {
                for b in s.text.utf8 {
                    if let t = byteTokens[Int(b)] { out.append(t) } else if let u = unknownID { out.append(u) }
                }
            }
        }
        return out
    }
}
