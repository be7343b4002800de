import Foundation

/// Text ↔ token ids for a model, built from the model file's own vocabulary: GPT-2-style byte-level BPE
/// (SmolLM2, Llama 3, Qwen2) or SentencePiece BPE with byte fallback (Llama 2). Special tokens such as
/// `<|im_start|>` are recognised inside text when `parseSpecial` is true.
public struct Tokenizer: Sendable {
    public let vocabulary: TokenizerVocabulary
    public let preTokenizer: PreTokenizer
    private let ids: [String: Int]
    /// Control and user-defined tokens, longest first (the order they are matched in text).
    private let specials: [(text: String, id: Int)]
    private let byteLevel: ByteLevelBPE?
    private let sentencePiece: SentencePieceBPE?

    public init(vocabulary v: TokenizerVocabulary) throws(TokenizerError) {
        guard !v.tokens.isEmpty else { throw TokenizerError("the vocabulary is empty") }
        guard v.types.count == v.tokens.count else {
            throw TokenizerError("\(v.tokens.count) tokens but \(v.types.count) token types")
        }
        vocabulary = v
        var ids = [String: Int](minimumCapacity: v.tokens.count)
        for (i, t) in v.tokens.enumerated() where ids[t] == nil { ids[t] = i }
        self.ids = ids
        preTokenizer = PreTokenizer(ggmlName: v.preTokenizer)
        specials = v.tokens.indices.filter { v.types[$0] == .control || v.types[$0] == .userDefined }
            .map { (v.tokens[$0], $0) }.filter { !$0.text.isEmpty }
            .sorted { $0.text.utf8.count > $1.text.utf8.count || ($0.text.utf8.count == $1.text.utf8.count && $0.id < $1.id) }
        switch v.model {
        case .byteLevelBPE:
            byteLevel = try ByteLevelBPE(vocabulary: v, ids: ids)
            sentencePiece = nil
        case .sentencePiece:
            byteLevel = nil
            sentencePiece = SentencePieceBPE(vocabulary: v, ids: ids)
        }
    }

    public var vocabularySize: Int { vocabulary.tokens.count }
    public var bosID: Int? { vocabulary.bosID }
    public var eosID: Int? { vocabulary.eosID }

    /// The id of a token written exactly as in the vocabulary (`"<|im_end|>"`, `"Ġthe"`).
    public func id(of token: String) -> Int? { ids[token] }

    /// Tokens that end a generation: EOS and the end-of-turn tokens of the common chat formats that exist here.
    public var stopTokenIDs: Set<Int> {
        var s = Set<Int>()
        if let e = eosID { s.insert(e) }
        for t in ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "</s>"] { if let i = ids[t] { s.insert(i) } }
        return s
    }

    /// Token ids of `text`.
    /// - Parameters:
    ///   - addBOS: prepend BOS; nil follows the vocabulary's `add_bos_token`.
    ///   - parseSpecial: recognise special tokens written in the text as single tokens.
    public func encode(_ text: String, addBOS: Bool? = nil, parseSpecial: Bool = true) -> [Int] {
        var out = [Int]()
        if addBOS ?? vocabulary.addBOS, let b = bosID { out.append(b) }
        var firstText = true
        for segment in segments(text, parseSpecial: parseSpecial) {
            switch segment {
            case .special(let id): out.append(id)
            case .text(let t):
                out += encodeText(t, atStart: firstText)
                firstText = false
            }
        }
        if vocabulary.addEOS, let e = eosID { out.append(e) }
        return out
    }

    private func encodeText(_ text: String, atStart: Bool) -> [Int] {
        if let bpe = byteLevel {
            return preTokenizer.split(text).flatMap { bpe.encode($0) }
        }
        guard let sp = sentencePiece else { return [] }
        var t = text.replacingOccurrences(of: " ", with: "▁")
        if atStart && vocabulary.addSpacePrefix { t = "▁" + t }
        return sp.encode(t)
    }

    private enum Segment { case text(String), special(Int) }

    /// Splits text at special tokens (leftmost match, longest token first at the same place).
    private func segments(_ text: String, parseSpecial: Bool) -> [Segment] {
        guard parseSpecial, !specials.isEmpty else { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var result = [Segment]()
        var start = 0, i = 0
        let firstBytes = Set(specials.map { $0.text.utf8.first! })
        while i < bytes.count {
            if firstBytes.contains(bytes[i]),
               let match = specials.first(where: { s in
                   let u = Array(s.text.utf8)
                   return i + u.count <= bytes.count && Array(bytes[i..<(i + u.count)]) == u
               }) {
                if start < i { result.append(.text(String(decoding: bytes[start..<i], as: UTF8.self))) }
                result.append(.special(match.id))
                i += match.text.utf8.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { result.append(.text(String(decoding: bytes[start...], as: UTF8.self))) }
        return result
    }

    /// Text of `ids`; byte pieces split across tokens are reassembled before UTF-8 decoding.
    /// - Parameter skipSpecial: leave out control tokens (BOS, `<|im_end|>`, ...).
    public func decode(_ tokenIDs: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: bytes(tokenIDs, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// The raw bytes `ids` stand for.
    public func bytes(_ tokenIDs: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var out = [UInt8]()
        var first = true
        for id in tokenIDs {
            guard id >= 0 && id < vocabulary.tokens.count else { continue }
            let type = vocabulary.types[id], text = vocabulary.tokens[id]
            if type == .control {
                if !skipSpecial { out += Array(text.utf8) }
                continue
            }
            if byteLevel != nil && type != .userDefined {
                out += ByteLevelBPE.bytes(of: text)
            } else if type == .byte, text.count == 6, text.hasPrefix("<0x"), let b = UInt8(text.dropFirst(3).prefix(2), radix: 16) {
                out.append(b)
            } else if byteLevel == nil {
                var piece = text.replacingOccurrences(of: "▁", with: " ")
                if first && vocabulary.addSpacePrefix && piece.hasPrefix(" ") { piece.removeFirst() }
                out += Array(piece.utf8)
            } else {
                out += Array(text.utf8)
            }
            first = false
        }
        return out
    }

    /// A token's text for display (byte-level stand-ins decoded; invalid UTF-8 shown with U+FFFD).
    public func piece(_ id: Int) -> String {
        guard id >= 0 && id < vocabulary.tokens.count else { return "<invalid \(id)>" }
        return vocabulary.types[id] == .control ? vocabulary.tokens[id] : decode([id])
    }

    /// The vocabulary's spelling of a token (`Ġworld`).
    public func token(_ id: Int) -> String? { id >= 0 && id < vocabulary.tokens.count ? vocabulary.tokens[id] : nil }
}

extension Tokenizer {
    /// The tokenizer stored in a GGUF file's `tokenizer.ggml.*` keys.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata, file = gguf.url.path
        func require<T>(_ key: String, _ value: T?) throws -> T {
            guard let value else { throw TokenizerError("\(file): metadata key \(key) is missing or has the wrong type") }
            return value
        }
        let modelName = try require("tokenizer.ggml.model", m["tokenizer.ggml.model"]?.string)
        guard let model = TokenizerVocabulary.Model(rawValue: modelName) else {
            throw TokenizerError("\(file): tokenizer.ggml.model \"\(modelName)\" is not supported (expected \"gpt2\" or \"llama\")")
        }
        let tokens = try require("tokenizer.ggml.tokens", m["tokenizer.ggml.tokens"]?.strings)
        let types = m["tokenizer.ggml.token_type"]?.ints?.map { TokenizerVocabulary.TokenType(rawValue: $0) ?? .normal }
        let v = TokenizerVocabulary(
            model: model, tokens: tokens, types: types, scores: m["tokenizer.ggml.scores"]?.floats ?? [],
            merges: m["tokenizer.ggml.merges"]?.strings ?? [], preTokenizer: m["tokenizer.ggml.pre"]?.string ?? "default",
            bosID: m["tokenizer.ggml.bos_token_id"]?.int, eosID: m["tokenizer.ggml.eos_token_id"]?.int,
            unknownID: m["tokenizer.ggml.unknown_token_id"]?.int, paddingID: m["tokenizer.ggml.padding_token_id"]?.int,
            addBOS: m["tokenizer.ggml.add_bos_token"]?.bool ?? (model == .sentencePiece),
            addEOS: m["tokenizer.ggml.add_eos_token"]?.bool ?? false,
            addSpacePrefix: m["tokenizer.ggml.add_space_prefix"]?.bool ?? (model == .sentencePiece))
        try self.init(vocabulary: v)
    }
}
