import Foundation

extension TokenizerVocabulary {
    /// This vocabulary as a Hugging Face `tokenizer.json` object (for `JSONSerialization`), in the layout
    /// `init(huggingFaceJSON:)` reads: byte-level BPE with its pre-tokenizer's split, or Llama-2-style BPE with
    /// `▁`, byte fallback and a BOS template. SentencePiece scores become merges ordered by score (pairs whose
    /// merged pieces score the same are ordered by the merged id, so ties may resolve differently than by position).
    public var huggingFaceTokenizer: [String: Any] {
        var vocab: [String: Int] = [:]
        var added: [[String: Any]] = []
        for (id, t) in tokens.enumerated() {
            let type = type(of: id)
            if type.isSpecial {
                added.append(["id": id, "content": t, "single_word": false, "lstrip": false, "rstrip": false,
                              "normalized": false, "special": type != .userDefined])
            }
            if vocab[t] == nil { vocab[t] = id }
        }
        var model: [String: Any] = ["type": "BPE", "vocab": vocab, "merges": merges.isEmpty ? scoreMerges() : merges,
                                    "dropout": NSNull(), "continuing_subword_prefix": NSNull(),
                                    "end_of_word_suffix": NSNull(), "fuse_unk": model == .sentencePiece,
                                    "byte_fallback": model == .sentencePiece, "ignore_merges": ignoreMerges]
        model["unk_token"] = unknownID.map { tokens[$0] } ?? NSNull()
        var root: [String: Any] = ["version": "1.0", "truncation": NSNull(), "padding": NSNull(),
                                   "added_tokens": added, "model": model]
        switch self.model {
        case .byteLevelBPE:
            let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false,
                                            "use_regex": false]
            let pattern: String
            var pre: [[String: Any]] = []
            switch Tokenizer.PreTokenizer(ggufName: preTokenizer) ?? .gpt2 {
            case .gpt2: pattern = HuggingFaceJSON.gpt2Pattern
            case .smollm:
                pattern = HuggingFaceJSON.gpt2Pattern
                pre.append(["type": "Digits", "individual_digits": true])
            case .llama3: pattern = HuggingFaceJSON.llama3Pattern
            case .qwen2: pattern = HuggingFaceJSON.qwen2Pattern
            }
            pre.append(["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false])
            pre.append(byteLevel)
            root["normalizer"] = NSNull()
            root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": pre]
            root["decoder"] = ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true]
        case .sentencePiece:
            var normalizers: [[String: Any]] = []
            if addSpacePrefix { normalizers.append(["type": "Prepend", "prepend": "\u{2581}"]) }
            normalizers.append(["type": "Replace", "pattern": ["String": " "], "content": "\u{2581}"])
            root["normalizer"] = ["type": "Sequence", "normalizers": normalizers]
            root["pre_tokenizer"] = NSNull()
            var decoders: [[String: Any]] = [["type": "Replace", "pattern": ["String": "\u{2581}"], "content": " "],
                                             ["type": "ByteFallback"], ["type": "Fuse"]]
            if addSpacePrefix { decoders.append(["type": "Strip", "content": " ", "start": 1, "stop": 0]) }
            root["decoder"] = ["type": "Sequence", "decoders": decoders]
        }
        var single: [[String: Any]] = []
        if addBOS, let b = bosID { single.append(["SpecialToken": ["id": tokens[b], "type_id": 0]]) }
        single.append(["Sequence": ["id": "A", "type_id": 0]])
        if addEOS, let e = eosID { single.append(["SpecialToken": ["id": tokens[e], "type_id": 0]]) }
        root["post_processor"] = ["type": "TemplateProcessing", "single": single, "pair": single, "special_tokens": [:] as [String: Any]]
        return root
    }

    /// SentencePiece scores as merges: every split of a piece into two pieces, best merged score first.
    private func scoreMerges() -> [String] {
        var index: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where index[t] == nil { index[t] = i }
        var pairs: [(score: Float, id: Int, cut: Int, text: String)] = []
        for (id, t) in tokens.enumerated() where scores.indices.contains(id) {
            switch type(of: id) {
            case .normal, .userDefined, .undefined: break
            default: continue
            }
            let scalars = Array(t.unicodeScalars)
            guard scalars.count >= 2 else { continue }
            for cut in 1..<scalars.count {
                let l = String(String.UnicodeScalarView(scalars[..<cut]))
                let r = String(String.UnicodeScalarView(scalars[cut...]))
                if index[l] != nil && index[r] != nil { pairs.append((scores[id], id, cut, l + " " + r)) }
            }
        }
        pairs.sort { ($0.score, -$0.id, -$0.cut) > ($1.score, -$1.id, -$1.cut) }
        return pairs.map(\.text)
    }
}
