extension TokenizerVocabulary {
    /// The vocabulary stored in a GGUF file's `tokenizer.ggml.*` keys and `tokenizer.chat_template`.
    public init(gguf file: GGUFFile) throws {
        let m = file.metadata
        let source = file.url.path
        func fail(_ key: String, _ detail: String) -> TokenizerError {
            TokenizerError(source: source, field: "metadata \"\(key)\"", detail)
        }
        func kind(_ v: GGUFValue) -> String {
            if case .array(let a) = v { return "an array of \(a.count) \(a.first.map { GGUFValue.typeName($0.typeID) } ?? "values")" }
            return "a \(GGUFValue.typeName(v.typeID)) (\(v))"
        }
        func string(_ key: String) throws -> String? {
            guard let v = m[key] else { return nil }
            guard let s = v.string else { throw fail(key, "expected a string, found \(kind(v))") }
            return s
        }
        func int(_ key: String) throws -> Int? {
            guard let v = m[key] else { return nil }
            guard let i = v.int else { throw fail(key, "expected an integer, found \(kind(v))") }
            return i
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = m[key] else { return nil }
            guard let b = v.bool else { throw fail(key, "expected a bool, found \(kind(v))") }
            return b
        }

        let modelKey = "tokenizer.ggml.model"
        guard let modelName = try string(modelKey) else {
            throw fail(modelKey, "missing: the file has no tokenizer (expected \"gpt2\" or \"llama\")")
        }
        guard let model = Model(rawValue: modelName) else {
            throw fail(modelKey, "expected \"gpt2\" (byte-level BPE) or \"llama\" (SentencePiece), found \"\(modelName)\"")
        }
        let tokensKey = "tokenizer.ggml.tokens"
        guard let tokensValue = m[tokensKey] else { throw fail(tokensKey, "missing") }
        guard let tokens = tokensValue.strings else {
            throw fail(tokensKey, "expected an array of strings, found \(kind(tokensValue))")
        }
        var types: [TokenType] = []
        let typesKey = "tokenizer.ggml.token_type"
        if let v = m[typesKey] {
            guard let ints = v.ints else { throw fail(typesKey, "expected an array of integers, found \(kind(v))") }
            types.reserveCapacity(ints.count)
            for (i, t) in ints.enumerated() {
                guard let type = TokenType(rawValue: t) else {
                    throw fail(typesKey, "item \(i): expected a token type 0…6, found \(t)")
                }
                types.append(type)
            }
        }
        var scores: [Float] = []
        let scoresKey = "tokenizer.ggml.scores"
        if let v = m[scoresKey] {
            guard let f = v.floats else { throw fail(scoresKey, "expected an array of numbers, found \(kind(v))") }
            scores = f
        }
        var merges: [String] = []
        let mergesKey = "tokenizer.ggml.merges"
        if let v = m[mergesKey] {
            guard let s = v.strings else { throw fail(mergesKey, "expected an array of strings, found \(kind(v))") }
            merges = s
        }
        let pre = try string("tokenizer.ggml.pre") ?? "default"
        let isLlama3 = Tokenizer.PreTokenizer(ggufName: pre) == .llama3
        self.init(model: model, tokens: tokens, tokenTypes: types, scores: scores, merges: merges,
                  bosID: try int("tokenizer.ggml.bos_token_id"), eosID: try int("tokenizer.ggml.eos_token_id"),
                  unknownID: try int("tokenizer.ggml.unknown_token_id"),
                  paddingID: try int("tokenizer.ggml.padding_token_id"),
                  addBOS: try bool("tokenizer.ggml.add_bos_token") ?? (model == .sentencePiece || isLlama3),
                  addEOS: try bool("tokenizer.ggml.add_eos_token") ?? false,
                  preTokenizer: pre,
                  addSpacePrefix: try bool("tokenizer.ggml.add_space_prefix") ?? (model == .sentencePiece),
                  ignoreMerges: isLlama3,
                  chatTemplate: try string("tokenizer.chat_template"))
    }
}

extension Tokenizer {
    /// The tokenizer a GGUF file describes (keys `tokenizer.ggml.*`).
    public init(gguf file: GGUFFile) throws {
        let v = try TokenizerVocabulary(gguf: file)
        do {
            try self.init(vocabulary: v)
        } catch var e as TokenizerError {
            e.source = file.url.path
            throw e
        }
    }
}
