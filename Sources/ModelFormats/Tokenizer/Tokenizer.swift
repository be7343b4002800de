/// Text ↔ token ids for a model: byte-level BPE (SmolLM2, Llama 3, Qwen2) or SentencePiece BPE with byte
/// fallback (Llama 2), with the model's special tokens. Built from a `TokenizerVocabulary` (by hand, from a GGUF
/// file, or from a Hugging Face `tokenizer.json`); immutable and safe to share between threads.
public struct Tokenizer: Sendable {
    /// The data this tokenizer was built from.
    public let vocabulary: TokenizerVocabulary

    private let idOfToken: [String: Int]
    /// What each token stands for when decoded: UTF-8 bytes (special tokens: their text).
    private let bytesOfToken: [[UInt8]]
    private let merger: BPEMerger
    /// Byte-level BPE: the token of each byte's character. SentencePiece: the `<0xNN>` token of each byte.
    /// -1 where the vocabulary has none.
    private let byteTokens: [Int32]
    private let preTokenizer: PreTokenizer?
    private let specials: SpecialTokenMatcher

    public var bosID: Int? { vocabulary.bosID }
    public var eosID: Int? { vocabulary.eosID }
    public var vocabularySize: Int { vocabulary.tokens.count }

    /// Ids that end a generated turn: EOS and, when the vocabulary has them as special tokens, `<|im_end|>`,
    /// `<|eot_id|>`, `<|endoftext|>` and `<|end_of_text|>`.
    public var stopTokenIDs: Set<Int> {
        var out = Set<Int>()
        if let e = eosID { out.insert(e) }
        for name in ["<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>"] {
            if let id = idOfToken[name], vocabulary.type(of: id).isSpecial { out.insert(id) }
        }
        return out
    }

    /// Validates `vocabulary` and builds the lookup tables.
    public init(vocabulary v: TokenizerVocabulary) throws {
        let source = "vocabulary"
        func fail(_ field: String, _ detail: String) -> TokenizerError {
            TokenizerError(source: source, field: field, detail)
        }
        let n = v.tokens.count
        guard n > 0 else { throw fail("tokens", "expected at least one token, found none") }
        guard n < Int(Int32.max) else { throw fail("tokens", "expected fewer than 2^31 tokens, found \(n)") }
        guard v.tokenTypes.isEmpty || v.tokenTypes.count == n else {
            throw fail("token types", "expected one type per token (\(n)), found \(v.tokenTypes.count)")
        }
        guard v.scores.isEmpty || v.scores.count == n else {
            throw fail("scores", "expected one score per token (\(n)), found \(v.scores.count)")
        }
        for (name, id) in [("bos id", v.bosID), ("eos id", v.eosID), ("unknown id", v.unknownID), ("padding id", v.paddingID)] {
            if let id, !(0..<n).contains(id) {
                throw fail(name, "expected a token id in 0..<\(n), found \(id)")
            }
        }
        if v.addBOS && v.bosID == nil { throw fail("add bos", "BOS is to be added but the vocabulary has no BOS id") }
        if v.addEOS && v.eosID == nil { throw fail("add eos", "EOS is to be added but the vocabulary has no EOS id") }

        var index = [String: Int](minimumCapacity: n)
        for (i, t) in v.tokens.enumerated() where index[t] == nil { index[t] = i }
        idOfToken = index
        vocabulary = v

        // Decoded bytes of each token.
        var bytes = [[UInt8]]()
        bytes.reserveCapacity(n)
        for i in 0..<n {
            let t = v.tokens[i]
            let type = v.type(of: i)
            if type.isSpecial {
                bytes.append(Array(t.utf8))
            } else if v.model == .byteLevelBPE {
                bytes.append(ByteLevelAlphabet.bytes(of: t) ?? Array(t.utf8))
            } else if type == .byte, let b = Self.byteValue(ofPiece: t) {
                bytes.append([b])
            } else {
                bytes.append(Array(t.replacing("\u{2581}", with: " ").utf8))
            }
        }
        bytesOfToken = bytes

        // Byte tokens.
        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            let name = v.model == .byteLevelBPE
                ? ByteLevelAlphabet.spell([UInt8(b)])
                : "<0x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true) + ">"
            if let id = index[name] { byteIDs[b] = Int32(id) }
        }
        byteTokens = byteIDs

        // Merges.
        var merger = BPEMerger()
        if !v.merges.isEmpty {
            for (rank, m) in v.merges.enumerated() {
                let field = "merges[\(rank)]"
                let scalars = Array(m.unicodeScalars)
                guard let space = scalars.dropFirst().firstIndex(of: " ") else {
                    throw fail(field, "expected two tokens separated by a space, found \"\(m)\"")
                }
                let left = String(String.UnicodeScalarView(scalars[..<space]))
                let right = String(String.UnicodeScalarView(scalars[(space + 1)...]))
                guard let l = index[left] else { throw fail(field, "the left token \"\(left)\" is not in the vocabulary") }
                guard let r = index[right] else { throw fail(field, "the right token \"\(right)\" is not in the vocabulary") }
                guard let merged = index[left + right] else {
                    throw fail(field, "the merged token \"\(left + right)\" is not in the vocabulary")
                }
                merger.add(left: Int32(l), right: Int32(r), rank: rank, merged: Int32(merged))
            }
        } else if v.model == .byteLevelBPE {
            throw fail("merges", "byte-level BPE needs merges, found none")
        } else {
            guard !v.scores.isEmpty else {
                throw fail("scores", "SentencePiece BPE needs either merges or one score per token, found neither")
            }
            merger = Self.mergesFromScores(v, index)
        }
        self.merger = merger

        if v.model == .byteLevelBPE {
            guard let p = PreTokenizer(ggufName: v.preTokenizer) else {
                throw fail("pre-tokenizer", "expected one of \(PreTokenizer.ggufNames.joined(separator: ", ")), found \"\(v.preTokenizer)\"")
            }
            preTokenizer = p
        } else {
            preTokenizer = nil
        }
        specials = SpecialTokenMatcher(v)
    }

    /// SentencePiece without merges: every split of a piece into two pieces of the vocabulary is a merge, ranked
    /// by the merged piece's score (higher first; equal scores share a rank so the leftmost pair wins).
    private static func mergesFromScores(_ v: TokenizerVocabulary, _ index: [String: Int]) -> BPEMerger {
        let distinct = Array(Set(v.scores)).sorted(by: >)
        var rankOfScore = [Float: Int](minimumCapacity: distinct.count)
        for (i, s) in distinct.enumerated() { rankOfScore[s] = i }
        var merger = BPEMerger()
        for (id, t) in v.tokens.enumerated() {
            switch v.type(of: id) {
            case .normal, .userDefined, .undefined: break
            default: continue
            }
            let scalars = Array(t.unicodeScalars)
            guard scalars.count >= 2 else { continue }
            let rank = rankOfScore[v.scores[id]] ?? distinct.count
            for cut in 1..<scalars.count {
                guard let l = index[String(String.UnicodeScalarView(scalars[..<cut]))],
                      let r = index[String(String.UnicodeScalarView(scalars[cut...]))] else { continue }
                merger.add(left: Int32(l), right: Int32(r), rank: rank, merged: Int32(id))
            }
        }
        return merger
    }

    /// The byte of a `<0xNN>` piece.
    static func byteValue(ofPiece t: String) -> UInt8? {
        guard t.count == 6, t.hasPrefix("<0x"), t.hasSuffix(">") else { return nil }
        return UInt8(t.dropFirst(3).prefix(2), radix: 16)
    }

    // MARK: - Lookup

    /// The id of a token string as the vocabulary spells it (`Ġworld`, `▁Hello`, `<|im_end|>`).
    public func id(of token: String) -> Int? { idOfToken[token] }

    /// The token string as the vocabulary spells it, nil for an id outside the vocabulary.
    public func token(_ id: Int) -> String? {
        vocabulary.tokens.indices.contains(id) ? vocabulary.tokens[id] : nil
    }

    /// Whether `id` is a special token (control, user-defined or unknown).
    public func isSpecial(_ id: Int) -> Bool {
        vocabulary.tokens.indices.contains(id) && vocabulary.type(of: id).isSpecial
    }

    /// The bytes token `id` stands for (empty for an id outside the vocabulary).
    public func bytes(of id: Int) -> [UInt8] {
        bytesOfToken.indices.contains(id) ? bytesOfToken[id] : []
    }

    /// Token `id` as text for display: its decoded text, with bytes that are not complete UTF-8 shown as `<0xNN>`.
    public func piece(_ id: Int) -> String {
        guard bytesOfToken.indices.contains(id) else { return "<invalid id \(id)>" }
        let b = bytesOfToken[id]
        if let s = String(validating: b, as: UTF8.self) { return s }
        return b.map { "<0x" + ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) + ">" }.joined()
    }

    // MARK: - Encoding

    /// Token ids of `text`. `addBOS`/`addEOS` default to the vocabulary's flags; with `parseSpecial`, special
    /// tokens written in the text (`<|im_start|>`, `<s>`) become their ids, otherwise they are ordinary text.
    public func encode(_ text: String, addBOS: Bool? = nil, addEOS: Bool? = nil, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        if addBOS ?? vocabulary.addBOS, let b = bosID { out.append(b) }
        var scalars = text.unicodeScalars.map(\.value)
        var cache = [[UInt8]: [Int32]]()
        scalars.withUnsafeMutableBufferPointer { buffer in
            let s = UnsafeBufferPointer(buffer)
            var afterSpecial = true
            var start = 0
            if parseSpecial && !specials.isEmpty {
                var i = 0
                while i < s.count {
                    if let (id, length) = specials.match(s, at: i) {
                        if start < i { encodeText(s, start..<i, atStart: afterSpecial, into: &out, cache: &cache) }
                        out.append(id)
                        afterSpecial = true
                        i += length
                        start = i
                    } else {
                        i += 1
                    }
                }
            }
            if start < s.count { encodeText(s, start..<s.count, atStart: afterSpecial, into: &out, cache: &cache) }
        }
        if addEOS ?? vocabulary.addEOS, let e = eosID { out.append(e) }
        return out
    }

    /// Encodes ordinary text (no special tokens). `atStart`: the text begins the input or follows a special token.
    private func encodeText(_ s: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, atStart: Bool,
                            into out: inout [Int], cache: inout [[UInt8]: [Int32]]) {
        if let preTokenizer {
            preTokenizer.split(s, range) { word in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(word.count)
                for i in word { Self.appendUTF8(s[i], to: &bytes) }
                if let ids = cache[bytes] {
                    for id in ids { out.append(Int(id)) }
                    return
                }
                let ids = encodeByteLevelWord(bytes)
                cache[bytes] = ids
                for id in ids { out.append(Int(id)) }
            }
        } else {
            encodeSentencePiece(s, range, atStart: atStart, into: &out)
        }
    }

    private func encodeByteLevelWord(_ bytes: [UInt8]) -> [Int32] {
        if vocabulary.ignoreMerges, let id = idOfToken[ByteLevelAlphabet.spell(bytes)] { return [Int32(id)] }
        var symbols = [Int32]()
        symbols.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteTokens[Int(b)]
            if id >= 0 {
                symbols.append(id)
            } else if let u = vocabulary.unknownID {
                symbols.append(Int32(u))
            }
        }
        merger.apply(&symbols)
        return symbols
    }

    private func encodeSentencePiece(_ s: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, atStart: Bool,
                                     into out: inout [Int]) {
        var chars: [UInt32] = []
        chars.reserveCapacity(range.count + 1)
        if vocabulary.addSpacePrefix && atStart { chars.append(0x2581) }
        for i in range { chars.append(s[i] == 0x20 ? 0x2581 : s[i]) }
        var symbols = [Int32]()
        symbols.reserveCapacity(chars.count)
        // Characters outside the vocabulary are kept as -1 - (their index in `chars`) for byte fallback.
        var piece = String.UnicodeScalarView()
        for (k, c) in chars.enumerated() {
            piece.removeAll(keepingCapacity: true)
            if let u = Unicode.Scalar(c) { piece.append(u) }
            if let id = idOfToken[String(piece)], !vocabulary.type(of: id).isSpecial {
                symbols.append(Int32(id))
            } else {
                symbols.append(Int32(-1 - k))
            }
        }
        merger.apply(&symbols)
        for id in symbols {
            if id >= 0 { out.append(Int(id)); continue }
            var utf8: [UInt8] = []
            Self.appendUTF8(chars[Int(-1 - id)], to: &utf8)
            for b in utf8 {
                let t = byteTokens[Int(b)]
                if t >= 0 {
                    out.append(Int(t))
                } else if let u = vocabulary.unknownID {
                    out.append(u)
                }
            }
        }
    }

    @inline(__always) static func appendUTF8(_ v: UInt32, to bytes: inout [UInt8]) {
        switch v {
        case ..<0x80:
            bytes.append(UInt8(v))
        case ..<0x800:
            bytes.append(UInt8(0xC0 | (v >> 6)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        case ..<0x10000:
            bytes.append(UInt8(0xE0 | (v >> 12)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (v >> 18)))
            bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        }
    }

    // MARK: - Decoding

    /// The UTF-8 bytes of `ids` joined (ids outside the vocabulary are skipped). With `skipSpecial`, control and
    /// unknown tokens are left out. SentencePiece drops the one space its encoding put before the text.
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        decodeBytes(ids, skipSpecial: skipSpecial, stripSpacePrefix: true)
    }

    func decodeBytes(_ ids: [Int], skipSpecial: Bool, stripSpacePrefix: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids where bytesOfToken.indices.contains(id) {
            if skipSpecial {
                let t = vocabulary.type(of: id)
                if t == .control || t == .unknown { continue }
            }
            out.append(contentsOf: bytesOfToken[id])
        }
        if stripSpacePrefix && vocabulary.model == .sentencePiece && vocabulary.addSpacePrefix && out.first == 0x20 {
            out.removeFirst()
        }
        return out
    }

    /// The text of `ids`; bytes of a character split across tokens are joined before UTF-8 decoding, and an
    /// incomplete or invalid sequence becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }
}

/// Finds the special tokens written in a text: at each position the longest special token starting there.
struct SpecialTokenMatcher: Sendable {
    /// First scalar → (scalars, id), longest first.
    private var byFirst: [UInt32: [([UInt32], Int)]] = [:]

    init(_ v: TokenizerVocabulary) {
        for (id, t) in v.tokens.enumerated() where v.type(of: id).isSpecial && !t.isEmpty {
            let s = t.unicodeScalars.map(\.value)
            byFirst[s[0], default: []].append((s, id))
        }
        for k in byFirst.keys { byFirst[k]?.sort { $0.0.count > $1.0.count || ($0.0.count == $1.0.count && $0.1 < $1.1) } }
    }

    var isEmpty: Bool { byFirst.isEmpty }

    @inline(__always) func match(_ s: UnsafeBufferPointer<UInt32>, at i: Int) -> (id: Int, length: Int)? {
        guard let candidates = byFirst[s[i]] else { return nil }
        for (t, id) in candidates where i + t.count <= s.count {
            var k = 1
            while k < t.count && s[i + k] == t[k] { k += 1 }
            if k == t.count { return (id, t.count) }
        }
        return nil
    }
}
