import Foundation

extension TokenizerVocabulary {
    /// Reads a Hugging Face `tokenizer.json` (BPE model) and, when present beside it, `tokenizer_config.json`
    /// (BOS/EOS, `add_bos_token`). Byte-level BPE when the pre-tokenizer or decoder is `ByteLevel`; otherwise
    /// SentencePiece-style BPE (`▁` for spaces, `<0xNN>` byte fallback).
    public init(huggingFaceTokenizer url: URL) throws {
        let file = url.path
        guard let data = try? Data(contentsOf: url),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerError("\(file): cannot read a JSON object")
        }
        guard let model = json["model"] as? [String: Any], (model["type"] as? String ?? "BPE") == "BPE",
              let vocab = model["vocab"] as? [String: NSNumber] else {
            throw TokenizerError("\(file): model: expected {\"type\": \"BPE\", \"vocab\": {...}}")
        }
        var added = [(String, Int, Bool)]()
        for a in json["added_tokens"] as? [[String: Any]] ?? [] {
            if let id = (a["id"] as? NSNumber)?.intValue, let content = a["content"] as? String {
                added.append((content, id, a["special"] as? Bool ?? false))
            }
        }
        let size = max((vocab.values.map(\.intValue).max() ?? -1), (added.map(\.1).max() ?? -1)) + 1
        var tokens = [String](repeating: "", count: size)
        var types = [TokenType](repeating: .unused, count: size)
        for (t, id) in vocab where id.intValue >= 0 { tokens[id.intValue] = t; types[id.intValue] = .normal }
        for (content, id, special) in added {
            tokens[id] = content
            types[id] = special ? .control : .userDefined
        }
        let merges: [String] = (model["merges"] as? [Any] ?? []).compactMap {
            if let s = $0 as? String { return s }
            if let pair = $0 as? [String], pair.count == 2 { return pair[0] + " " + pair[1] }
            return nil
        }
        let description = String(decoding: (try? JSONSerialization.data(withJSONObject: [json["pre_tokenizer"] ?? NSNull(), json["decoder"] ?? NSNull()])) ?? Data(), as: UTF8.self)
        let byteLevel = description.contains("ByteLevel")
        var pre = "gpt2"
        if description.contains("individual_digits") || description.contains("\"Digits\"") { pre = "smollm" }
        if description.contains("\\\\p{N}{1,3}") || description.contains("p{N}{1,3}") { pre = "llama3" }
        if byteLevel == false {
            for i in types.indices where tokens[i].count == 6 && tokens[i].hasPrefix("<0x") { types[i] = .byte }
        }
        var bos: Int?, eos: Int?, addBOS = !byteLevel
        let configURL = url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        if let cdata = try? Data(contentsOf: configURL), let config = try? JSONSerialization.jsonObject(with: cdata) as? [String: Any] {
            func tokenID(_ key: String) -> Int? {
                let v = config[key]
                let s = (v as? String) ?? ((v as? [String: Any])?["content"] as? String)
                return s.flatMap { vocab[$0]?.intValue ?? added.first(where: { $0.0 == s })?.1 }
            }
            bos = tokenID("bos_token")
            eos = tokenID("eos_token")
            addBOS = config["add_bos_token"] as? Bool ?? addBOS
        }
        self.init(model: byteLevel ? .byteLevelBPE : .sentencePiece, tokens: tokens, types: types, merges: merges,
                  preTokenizer: pre, bosID: bos, eosID: eos,
                  unknownID: (model["unk_token"] as? String).flatMap { vocab[$0]?.intValue }, addBOS: addBOS,
                  addSpacePrefix: !byteLevel)
        if !byteLevel {
            // SentencePiece BPE in tokenizer.json ranks by merge order: earlier merges score higher.
            var scores = [Float](repeating: -1e9, count: size)
            for (rank, m) in merges.enumerated() {
                if let id = vocab[m.replacingOccurrences(of: " ", with: "")]?.intValue { scores[id] = max(scores[id], -Float(rank)) }
            }
            self.scores = scores
        }
    }

    /// This vocabulary as a Hugging Face `tokenizer.json` object (byte-level BPE vocabularies).
    public var huggingFaceTokenizer: [String: Any] {
        var vocab = [String: Int]()
        for (i, t) in tokens.enumerated() where types[i] != .control && types[i] != .userDefined { vocab[t] = i }
        let added: [[String: Any]] = tokens.indices.filter { types[$0] == .control || types[$0] == .userDefined }.map {
            ["id": $0, "content": tokens[$0], "special": types[$0] == .control, "single_word": false,
             "lstrip": false, "rstrip": false, "normalized": false]
        }
        var pre: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        if preTokenizer == "smollm" {
            pre = ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], pre]]
        }
        return ["version": "1.0", "added_tokens": added, "pre_tokenizer": pre,
                "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
                "model": ["type": "BPE", "vocab": vocab, "merges": merges, "byte_fallback": false]]
    }
}

extension Tokenizer {
    /// The tokenizer of a Hugging Face model directory (`tokenizer.json` + `tokenizer_config.json`).
    public init(huggingFaceDirectory dir: URL) throws {
        try self.init(vocabulary: TokenizerVocabulary(huggingFaceTokenizer: dir.appendingPathComponent("tokenizer.json")))
    }
}
