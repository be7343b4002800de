/// Everything a tokenizer is built from: the vocabulary with token types and scores, the BPE merges, the special
/// token ids and flags, as stored in a GGUF's `tokenizer.ggml.*` keys or a Hugging Face `tokenizer.json`.
public struct TokenizerVocabulary: Sendable, Equatable {
    /// Which algorithm the vocabulary belongs to.
    public enum Model: String, Sendable {
        /// GPT-2-style byte-level BPE (SmolLM2, Llama 3, Qwen2): `tokenizer.ggml.model = "gpt2"`.
        case byteLevelBPE = "gpt2"
        /// SentencePiece BPE with byte fallback (Llama 2, Mistral): `tokenizer.ggml.model = "llama"`.
        case sentencePiece = "llama"
    }

    /// GGUF token types.
    public enum TokenType: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public var model: Model
    public var tokens: [String]
    public var types: [TokenType]
    /// SentencePiece merge scores (higher merges first); empty for byte-level BPE.
    public var scores: [Float]
    /// Byte-level BPE merges, `"left right"`, in rank order.
    public var merges: [String]
    /// The pre-tokenizer named by `tokenizer.ggml.pre` (`smollm`, `gpt2`, `llama-bpe`, `qwen2`, ...).
    public var preTokenizer: String
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    public var addBOS: Bool
    public var addEOS: Bool
    /// SentencePiece: prepend a space (▁) to the text.
    public var addSpacePrefix: Bool

    public init(model: Model, tokens: [String], types: [TokenType]? = nil, scores: [Float] = [], merges: [String] = [],
                preTokenizer: String = "default", bosID: Int? = nil, eosID: Int? = nil, unknownID: Int? = nil,
                paddingID: Int? = nil, addBOS: Bool = false, addEOS: Bool = false, addSpacePrefix: Bool = true) {
        self.model = model
        self.tokens = tokens
        self.types = types ?? Array(repeating: .normal, count: tokens.count)
        self.scores = scores
        self.merges = merges
        self.preTokenizer = preTokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}
