import Foundation

extension TokenizerVocabulary {
    /// The vocabulary of a Hugging Face `tokenizer.json` (model type `BPE`), with `tokenizer_config.json` for
    /// BOS/EOS, `add_bos_token`/`add_eos_token` and `chat_template` when given. Two layouts are understood:
    /// byte-level BPE (a `ByteLevel` pre-tokenizer or decoder; the split pattern from a `Split` regex, or GPT-2's
    /// with `Digits` for SmolLM) and Llama-2's SentencePiece-style BPE (`▁` for spaces via `Prepend`/`Replace`
    /// normalizers or a `Metaspace` pre-tokenizer, `byte_fallback`).
    public init(huggingFaceJSON url: URL, config configURL: URL? = nil) throws {
        let path = url.path
        let root = try HuggingFaceJSON.object(at: url)
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError(source: path, field: "model", "expected an object describing the tokenizer model")
        }
        let type = model["type"] as? String ?? "BPE"
        guard type == "BPE" else {
            throw TokenizerError(source: path, field: "model.type", "expected \"BPE\", found \"\(type)\" (only BPE tokenizers are supported)")
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError(source: path, field: "model.vocab", "expected an object mapping tokens to ids")
        }
        var idOf: [String: Int] = [:]
        idOf.reserveCapacity(vocab.count)
        for (token, value) in vocab {
            guard let id = HuggingFaceJSON.int(value), id >= 0, id < 1 << 24 else {
                throw TokenizerError(source: path, field: "model.vocab[\"\(token)\"]", "expected a token id in 0..<16777216, found \(value)")
            }
            idOf[token] = id
        }
        var added: [(id: Int, content: String, special: Bool)] = []
        if let list = root["added_tokens"] as? [[String: Any]] {
            for (i, t) in list.enumerated() {
                guard let id = t["id"].flatMap(HuggingFaceJSON.int), id >= 0, id < 1 << 24,
                      let content = t["content"] as? String else {
                    throw TokenizerError(source: path, field: "added_tokens[\(i)]", "expected an object with an \"id\" in 0..<16777216 and a \"content\" string")
                }
                added.append((id, content, t["special"] as? Bool ?? false))
            }
        }
        let count = max(idOf.values.max() ?? -1, added.map(\.id).max() ?? -1) + 1
        guard count > 0 else { throw TokenizerError(source: path, field: "model.vocab", "expected at least one token, found none") }
        var tokens = [String](repeating: "", count: count)
        var types = [TokenType](repeating: .unused, count: count)
        for (t, id) in idOf { tokens[id] = t; types[id] = .normal }

        var merges: [String] = []
        if let list = model["merges"] as? [Any] {
            merges.reserveCapacity(list.count)
            for (i, m) in list.enumerated() {
                if let s = m as? String {
                    merges.append(s)
                } else if let pair = m as? [String], pair.count == 2 {
                    merges.append(pair[0] + " " + pair[1])
                } else {
                    throw TokenizerError(source: path, field: "model.merges[\(i)]", "expected \"left right\" or [\"left\", \"right\"], found \(m)")
                }
            }
        }

        let components = HuggingFaceJSON.components(root["pre_tokenizer"]) + HuggingFaceJSON.components(root["decoder"])
        let isByteLevel = components.contains { $0["type"] as? String == "ByteLevel" }
        let byteFallback = model["byte_fallback"] as? Bool ?? false
        var unknownID: Int?
        if let unk = model["unk_token"] as? String { unknownID = idOf[unk] ?? added.first { $0.content == unk }?.id }

        var modelKind: Model
        var pre = "default"
        var addSpacePrefix = false
        if isByteLevel {
            modelKind = .byteLevelBPE
            pre = try HuggingFaceJSON.preTokenizerName(root["pre_tokenizer"], path)
        } else {
            let normalizers = HuggingFaceJSON.components(root["normalizer"])
            let metaspace = HuggingFaceJSON.components(root["pre_tokenizer"]).first { $0["type"] as? String == "Metaspace" }
            let replacesSpace = normalizers.contains {
                $0["type"] as? String == "Replace" && ($0["content"] as? String) == "\u{2581}"
            }
            guard byteFallback || replacesSpace || metaspace != nil else {
                throw TokenizerError(source: path, field: "pre_tokenizer", "expected a ByteLevel (GPT-2 style) or a SentencePiece-style (Metaspace, or Replace \" \" → \"▁\", byte_fallback) BPE tokenizer; found neither")
            }
            modelKind = .sentencePiece
            if let metaspace {
                let scheme = metaspace["prepend_scheme"] as? String
                addSpacePrefix = scheme.map { $0 != "never" } ?? (metaspace["add_prefix_space"] as? Bool ?? true)
            } else {
                addSpacePrefix = normalizers.contains { $0["type"] as? String == "Prepend" && ($0["prepend"] as? String) == "\u{2581}" }
            }
            if byteFallback {
                for (i, t) in tokens.enumerated() where types[i] == .normal && Tokenizer.byteValue(ofPiece: t) != nil {
                    types[i] = .byte
                }
            }
        }
        for a in added {
            tokens[a.id] = a.content
            types[a.id] = a.special ? .control : .userDefined
        }
        if let u = unknownID { types[u] = .unknown }

        // BOS/EOS and the flags: tokenizer_config.json first, then the post-processor's template.
        var bosID: Int?, eosID: Int?, addBOS = false, addEOS = false
        var chatTemplate: String?
        if let single = (root["post_processor"] as? [String: Any]).flatMap(HuggingFaceJSON.templateSingle) {
            if let first = single.first, let b = HuggingFaceJSON.specialTokenName(first), let id = idOf[b] ?? tokens.firstIndex(of: b) {
                addBOS = true
                bosID = id
            }
            if single.count > 1, let last = single.last, let e = HuggingFaceJSON.specialTokenName(last), let id = idOf[e] ?? tokens.firstIndex(of: e) {
                addEOS = true
                eosID = id
            }
        }
        let configFile = configURL ?? url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        if configURL != nil || FileManager.default.fileExists(atPath: configFile.path) {
            let config = try HuggingFaceJSON.object(at: configFile)
            func tokenID(_ key: String) throws -> Int? {
                guard let value = config[key], !(value is NSNull) else { return nil }
                let name = (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
                guard let name else {
                    throw TokenizerError(source: configFile.path, field: key, "expected a token string or an object with \"content\", found \(value)")
                }
                guard let id = tokens.firstIndex(of: name) else {
                    throw TokenizerError(source: configFile.path, field: key, "the token \"\(name)\" is not in the vocabulary of \(path)")
                }
                return id
            }
            bosID = try tokenID("bos_token") ?? bosID
            eosID = try tokenID("eos_token") ?? eosID
            if let b = config["add_bos_token"] as? Bool { addBOS = b }
            if let e = config["add_eos_token"] as? Bool { addEOS = e }
            if let t = config["chat_template"] as? String {
                chatTemplate = t
            } else if let list = config["chat_template"] as? [[String: Any]] {
                chatTemplate = (list.first { $0["name"] as? String == "default" } ?? list.first)?["template"] as? String
            }
        }
        if addBOS && bosID == nil { addBOS = false }
        if addEOS && eosID == nil { addEOS = false }

        self.init(model: modelKind, tokens: tokens, tokenTypes: types, scores: [], merges: merges, bosID: bosID,
                  eosID: eosID, unknownID: unknownID, paddingID: nil, addBOS: addBOS, addEOS: addEOS,
                  preTokenizer: pre, addSpacePrefix: addSpacePrefix,
                  ignoreMerges: model["ignore_merges"] as? Bool ?? false, chatTemplate: chatTemplate)
    }
}

extension Tokenizer {
    /// The tokenizer of a Hugging Face `tokenizer.json` (see `TokenizerVocabulary.init(huggingFaceJSON:config:)`);
    /// `tokenizer_config.json` is read from `config`, or from beside the file when it exists there.
    public init(huggingFaceJSON url: URL, config: URL? = nil) throws {
        let v = try TokenizerVocabulary(huggingFaceJSON: url, config: config)
        do {
            try self.init(vocabulary: v)
        } catch var e as TokenizerError {
            e.source = url.path
            throw e
        }
    }

    /// The tokenizer of a Hugging Face model directory (`tokenizer.json` and, if present, `tokenizer_config.json`).
    public init(huggingFaceDirectory directory: URL) throws {
        try self.init(huggingFaceJSON: directory.appendingPathComponent("tokenizer.json"))
    }
}

/// Reading helpers for Hugging Face tokenizer files.
enum HuggingFaceJSON {
    static func object(at url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError(source: url.path, field: "file", "cannot be read (\(error.localizedDescription))")
        }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: data) } catch {
            throw TokenizerError(source: url.path, field: "file", "is not valid JSON (\(error.localizedDescription))")
        }
        guard let object = value as? [String: Any] else {
            throw TokenizerError(source: url.path, field: "file", "expected a JSON object at the top level")
        }
        return object
    }

    static func int(_ v: Any) -> Int? {
        if let i = v as? Int { return i }
        if let n = v as? NSNumber, n.doubleValue == Double(n.intValue) { return n.intValue }
        return nil
    }

    /// A component and, for a `Sequence`, the components inside it (flattened).
    static func components(_ value: Any?) -> [[String: Any]] {
        guard let object = value as? [String: Any] else { return [] }
        var out = [object]
        for key in ["pretokenizers", "decoders", "normalizers"] {
            if let list = object[key] as? [Any] { for item in list { out += components(item) } }
        }
        return out
    }

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The `Tokenizer.PreTokenizer` a byte-level `pre_tokenizer` amounts to.
    static func preTokenizerName(_ value: Any?, _ path: String) throws -> String {
        let parts = components(value)
        var digits = false
        for p in parts {
            switch p["type"] as? String {
            case "Split":
                let pattern = (p["pattern"] as? [String: Any])?["Regex"] as? String
                    ?? (p["pattern"] as? [String: Any])?["String"] as? String ?? ""
                switch pattern {
                case gpt2Pattern: return digits ? "smollm" : "gpt2"
                case llama3Pattern: return "llama3"
                case qwen2Pattern: return "qwen2"
                default:
                    throw TokenizerError(source: path, field: "pre_tokenizer (Split)", "the split pattern \(pattern.debugDescription) is not one reptune implements; expected the GPT-2, Llama-3 or Qwen2 pattern")
                }
            case "Digits":
                guard p["individual_digits"] as? Bool ?? false else {
                    throw TokenizerError(source: path, field: "pre_tokenizer (Digits)", "only individual_digits = true is supported")
                }
                digits = true
            case "ByteLevel":
                if p["use_regex"] as? Bool ?? true { return digits ? "smollm" : "gpt2" }
            case "Sequence":
                break
            default:
                throw TokenizerError(source: path, field: "pre_tokenizer", "the pre-tokenizer \"\(p["type"] ?? "?")\" is not supported with byte-level BPE")
            }
        }
        return digits ? "smollm" : "gpt2"
    }

    /// The `single` template of a `TemplateProcessing` post-processor (also inside a `Sequence`).
    static func templateSingle(_ object: [String: Any]) -> [[String: Any]]? {
        if object["type"] as? String == "TemplateProcessing" { return object["single"] as? [[String: Any]] }
        for p in (object["processors"] as? [[String: Any]]) ?? [] { if let s = templateSingle(p) { return s } }
        return nil
    }

    static func specialTokenName(_ item: [String: Any]) -> String? {
        (item["SpecialToken"] as? [String: Any])?["id"] as? String
    }
}
