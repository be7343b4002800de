/// Everything a tokenizer is built from, as plain data: the token strings with their types and scores, the BPE
/// merges, the special ids and flags, and the name of the pre-tokenizer — what a GGUF file's `tokenizer.ggml.*`
/// keys or a Hugging Face `tokenizer.json` hold. It can be written by hand (tests) or read from a model file
/// (`Tokenizer(gguf:)`, `Tokenizer(huggingFaceJSON:)`); `Tokenizer(vocabulary:)` validates it.
public struct TokenizerVocabulary: Sendable, Equatable {
    /// The tokenization algorithm, named as in `tokenizer.ggml.model`.
    public enum Model: String, Sendable, Equatable, CaseIterable {
        /// GPT-2-style byte-level BPE (SmolLM2, Llama 3, Qwen2): text → bytes → printable characters, merged by rank.
        case byteLevelBPE = "gpt2"
        /// SentencePiece-style BPE (Llama 2): `▁` for spaces, pieces merged by score (or by merge rank when merges
        /// are given), `<0xNN>` byte tokens for characters not in the vocabulary.
        case sentencePiece = "llama"
    }

    /// The kind of a token, numbered as in `tokenizer.ggml.token_type` (llama.cpp's `llama_token_type`).
    public enum TokenType: Int, Sendable, Equatable, CaseIterable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6

        /// Tokens written as literal text that `encode(parseSpecial: true)` recognises inside the input
        /// (`<|im_start|>`, `<s>`, `<unk>`, user-defined tokens).
        public var isSpecial: Bool { self == .control || self == .userDefined || self == .unknown }
    }

    public var model: Model
    /// Token strings by id (byte-level BPE stores them in the GPT-2 printable-byte alphabet, e.g. `Ġworld`).
    public var tokens: [String]
    /// One type per token, or empty (then every token is `.normal`).
    public var tokenTypes: [TokenType]
    /// One score per token, or empty. SentencePiece merges the adjacent pair whose merged piece scores highest.
    public var scores: [Float]
    /// BPE merges by rank, each `"left right"` (required for byte-level BPE; optional for SentencePiece, where
    /// they replace the scores).
    public var merges: [String]
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    /// Whether `encode` prepends BOS / appends EOS by default.
    public var addBOS: Bool
    public var addEOS: Bool
    /// The pre-tokenizer of byte-level BPE as `tokenizer.ggml.pre` names it (`default`, `gpt2`, `smollm`,
    /// `llama3`/`llama-bpe`, `qwen2`); see `Tokenizer.PreTokenizer`.
    public var preTokenizer: String
    /// SentencePiece: put a space (`▁`) before the text and after every special token, as Llama 2 does.
    public var addSpacePrefix: Bool
    /// Byte-level BPE: a pre-token that is itself in the vocabulary is taken whole without merging (Llama 3).
    public var ignoreMerges: Bool
    /// The model's Jinja chat template (`tokenizer.chat_template`), if any.
    public var chatTemplate: String?

    public init(model: Model, tokens: [String], tokenTypes: [TokenType] = [], scores: [Float] = [],
                merges: [String] = [], bosID: Int? = nil, eosID: Int? = nil, unknownID: Int? = nil,
                paddingID: Int? = nil, addBOS: Bool = false, addEOS: Bool = false, preTokenizer: String = "default",
                addSpacePrefix: Bool = true, ignoreMerges: Bool = false, chatTemplate: String? = nil) {
        self.model = model
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.preTokenizer = preTokenizer
        self.addSpacePrefix = addSpacePrefix
        self.ignoreMerges = ignoreMerges
        self.chatTemplate = chatTemplate
    }

    /// The type of token `id` (`.normal` when no types are given).
    public func type(of id: Int) -> TokenType {
        tokenTypes.indices.contains(id) ? tokenTypes[id] : .normal
    }
}
