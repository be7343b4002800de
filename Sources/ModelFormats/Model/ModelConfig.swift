import Foundation

/// Hyperparameters of a Llama-family decoder (Llama 2/3, SmolLM2, Mistral, Qwen2), read from a GGUF's
/// `<arch>.*` metadata or a Hugging Face `config.json`.
public struct ModelConfig: Sendable, Equatable, Codable {
    /// How RoPE pairs the dimensions of a head.
    public enum RopeLayout: String, Sendable, Codable {
        /// Adjacent pairs (2i, 2i+1): llama.cpp's "normal" mode; GGUF Llama files store Q/K rows permuted for it.
        case interleaved
        /// Pairs (i, i + d/2): Hugging Face's `rotate_half` (and llama.cpp's NeoX mode, used by Qwen2 GGUFs).
        case halfSplit
    }

    public var architecture: String
    public var vocabularySize: Int
    public var embeddingLength: Int
    public var blockCount: Int
    public var feedForwardLength: Int
    public var headCount: Int
    public var headCountKV: Int
    public var headDimension: Int
    public var contextLength: Int
    public var rmsEpsilon: Float
    public var ropeTheta: Float
    public var ropeLayout: RopeLayout
    /// The output head reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Q/K/V projections carry biases (Qwen2).
    public var attentionBias: Bool

    public init(architecture: String, vocabularySize: Int, embeddingLength: Int, blockCount: Int,
                feedForwardLength: Int, headCount: Int, headCountKV: Int, headDimension: Int? = nil,
                contextLength: Int, rmsEpsilon: Float, ropeTheta: Float, ropeLayout: RopeLayout,
                tiedEmbeddings: Bool, attentionBias: Bool) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.embeddingLength = embeddingLength
        self.blockCount = blockCount
        self.feedForwardLength = feedForwardLength
        self.headCount = headCount
        self.headCountKV = headCountKV
        self.headDimension = headDimension ?? (headCount > 0 ? embeddingLength / headCount : 0)
        self.contextLength = contextLength
        self.rmsEpsilon = rmsEpsilon
        self.ropeTheta = ropeTheta
        self.ropeLayout = ropeLayout
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias
    }

    /// Width of the concatenated query heads.
    public var queryWidth: Int { headCount * headDimension }
    /// Width of the concatenated key (or value) heads.
    public var keyValueWidth: Int { headCountKV * headDimension }

    /// Checks the shape relations the engine relies on; `source` names the file in the error.
    public func validate(source: String) throws(ModelConfigError) {
        func fail(_ field: String, _ expected: String, _ found: Any) throws(ModelConfigError) {
            throw ModelConfigError(source: source, field: field, expected: expected, found: "\(found)")
        }
        if vocabularySize <= 0 { try fail("vocabulary size", "a positive number", vocabularySize) }
        if embeddingLength <= 0 { try fail("embedding length", "a positive number", embeddingLength) }
        if blockCount <= 0 { try fail("block count", "a positive number", blockCount) }
        if feedForwardLength <= 0 { try fail("feed-forward length", "a positive number", feedForwardLength) }
        if headCount <= 0 { try fail("head count", "a positive number", headCount) }
        if headCountKV <= 0 || headCount % headCountKV != 0 {
            try fail("head count (KV)", "a positive divisor of the head count \(headCount)", headCountKV)
        }
        if headDimension <= 0 || headDimension % 2 != 0 { try fail("head dimension", "a positive even number", headDimension) }
        if contextLength <= 0 { try fail("context length", "a positive number", contextLength) }
    }
}

/// A model's hyperparameters are missing or inconsistent.
public struct ModelConfigError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var field: String
    public var expected: String
    public var found: String
    public var description: String { "\(source): \(field): expected \(expected), found \(found)" }
}
