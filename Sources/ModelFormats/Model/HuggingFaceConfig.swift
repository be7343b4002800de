import Foundation

extension ModelConfig {
    /// Reads a Hugging Face `config.json` of a Llama-family model (`LlamaForCausalLM`, `MistralForCausalLM`,
    /// `Qwen2ForCausalLM`). HF checkpoints keep Q/K rows in their natural order, so RoPE pairs dimensions
    /// half-split.
    public init(huggingFaceConfig url: URL) throws {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelConfigError(source: file, field: "file", expected: "a readable config.json", found: "\(error.localizedDescription)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelConfigError(source: file, field: "(top level)", expected: "a JSON object", found: "invalid JSON")
        }
        func int(_ key: String) throws -> Int {
            guard let n = json[key] as? NSNumber else {
                throw ModelConfigError(source: file, field: key, expected: "an integer", found: json[key].map { "\($0)" } ?? "nothing")
            }
            return n.intValue
        }
        func optionalInt(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }
        let modelType = json["model_type"] as? String ?? "llama"
        let supported = ["llama", "mistral", "qwen2"]
        guard supported.contains(modelType) else {
            throw ModelConfigError(source: file, field: "model_type", expected: "one of \(supported.joined(separator: ", "))", found: "\"\(modelType)\"")
        }
        let heads = try int("num_attention_heads")
        let hidden = try int("hidden_size")
        self.init(architecture: modelType, vocabularySize: try int("vocab_size"), embeddingLength: hidden,
                  blockCount: try int("num_hidden_layers"), feedForwardLength: try int("intermediate_size"),
                  headCount: heads, headCountKV: optionalInt("num_key_value_heads") ?? heads,
                  headDimension: optionalInt("head_dim") ?? hidden / max(heads, 1),
                  contextLength: optionalInt("max_position_embeddings") ?? 2048,
                  rmsEpsilon: (json["rms_norm_eps"] as? NSNumber)?.floatValue ?? 1e-5,
                  ropeTheta: (json["rope_theta"] as? NSNumber)?.floatValue ?? 10000,
                  ropeLayout: .halfSplit,
                  tiedEmbeddings: (json["tie_word_embeddings"] as? Bool) ?? false,
                  attentionBias: (json["attention_bias"] as? Bool) ?? (modelType == "qwen2"))
        try validate(source: file)
    }

    /// This configuration as a Hugging Face `config.json` object.
    public var huggingFaceConfig: [String: Any] {
        [
            "architectures": [architecture == "qwen2" ? "Qwen2ForCausalLM" : architecture == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM"],
            "model_type": architecture == "qwen2" || architecture == "mistral" ? architecture : "llama",
            "vocab_size": vocabularySize, "hidden_size": embeddingLength, "num_hidden_layers": blockCount,
            "intermediate_size": feedForwardLength, "num_attention_heads": headCount,
            "num_key_value_heads": headCountKV, "head_dim": headDimension, "max_position_embeddings": contextLength,
            "rms_norm_eps": Double(rmsEpsilon), "rope_theta": Double(ropeTheta), "tie_word_embeddings": tiedEmbeddings,
            "attention_bias": attentionBias, "hidden_act": "silu", "torch_dtype": "float32",
        ]
    }
}
