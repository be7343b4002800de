/// GPT-2-style byte-level BPE: each pre-token's UTF-8 bytes are mapped to printable stand-in characters
/// (`Ġ` for a space, `Ċ` for a newline, ...) and merged pairwise by merge rank.
struct ByteLevelBPE: Sendable {
    /// Token id of each byte's stand-in character (a few vocabularies lack some control bytes).
    let byteTokens: [Int?]
    let unknownID: Int?
    /// Rank of the merge of two token ids, keyed `left << 32 | right`, and the token it produces.
    let merges: [UInt64: (rank: Int32, result: Int32)]

    /// The byte → stand-in character table of GPT-2 (printable Latin-1 bytes map to themselves).
    static let byteToUnicode: [Unicode.Scalar] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var extra = 0
        for b in 0..<256 {
            if printable.contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(UInt32(256 + extra))!
                extra += 1
            }
        }
        printable.removeAll()
        return table
    }()

    static let unicodeToByte: [Unicode.Scalar: UInt8] = {
        var map = [Unicode.Scalar: UInt8]()
        for (b, u) in byteToUnicode.enumerated() { map[u] = UInt8(b) }
        return map
    }()

    init(vocabulary v: TokenizerVocabulary, ids: [String: Int]) throws(TokenizerError) {
        byteTokens = (0..<256).map { ids[String(Self.byteToUnicode[$0])] }
        unknownID = v.unknownID
        guard byteTokens.compactMap({ $0 }).count >= 128 else {
            throw TokenizerError("not a byte-level BPE vocabulary: fewer than 128 of the 256 byte tokens are present")
        }
        var merges = [UInt64: (Int32, Int32)]()
        merges.reserveCapacity(v.merges.count)
        for (rank, m) in v.merges.enumerated() {
            let parts = m.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw TokenizerError("merge \(rank) \"\(m)\" is not two tokens separated by a space") }
            guard let a = ids[String(parts[0])], let b = ids[String(parts[1])],
                  let r = ids[String(parts[0]) + String(parts[1])] else { continue }
            let key = UInt64(a) << 32 | UInt64(b)
            if merges[key] == nil { merges[key] = (Int32(rank), Int32(r)) }
        }
        self.merges = merges
    }

    /// Token ids of one pre-token.
    func encode(_ piece: String) -> [Int] {
        // A byte without a token becomes the unknown token (or is dropped when there is none).
        var symbols = piece.utf8.compactMap { byteTokens[Int($0)] ?? unknownID }
        while symbols.count > 1 {
            var best = -1
            var bestRank = Int32.max, bestResult: Int32 = 0
            for k in 0..<(symbols.count - 1) {
                if let m = merges[UInt64(symbols[k]) << 32 | UInt64(symbols[k + 1])], m.rank < bestRank {
                    best = k
                    bestRank = m.rank
                    bestResult = m.result
                }
            }
            if best < 0 { break }
            symbols[best] = Int(bestResult)
            symbols.remove(at: best + 1)
        }
        return symbols
    }

    /// The bytes a token's text stands for.
    static func bytes(of token: String) -> [UInt8] {
        token.unicodeScalars.flatMap { u -> [UInt8] in
            if let b = unicodeToByte[u] { return [b] }
            return Array(String(u).utf8)
        }
    }
}
