import Foundation
import ModelFormats
import QuantizedKernels

/// A model file cannot be turned into a `LlamaModel`: names the file and the tensor or key at fault.
public struct ModelLoadError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var message: String
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

extension ModelConfig {
    /// Reads the hyperparameters of a Llama-family GGUF (`general.architecture` and its `<arch>.*` keys).
    public init(gguf: GGUFFile) throws {
        let file = gguf.url.path
        let meta = gguf.metadata
        guard let arch = meta["general.architecture"]?.string else {
            throw ModelLoadError(file: file, "metadata key general.architecture is missing")
        }
        let supported = ["llama", "mistral", "qwen2", "smollm"]
        guard supported.contains(arch) else {
            throw ModelLoadError(file: file, "architecture \"\(arch)\" is not supported (expected one of \(supported.joined(separator: ", ")))")
        }
        func int(_ key: String) throws -> Int {
            guard let v = meta["\(arch).\(key)"]?.int else {
                throw ModelLoadError(file: file, "metadata key \(arch).\(key) is missing or not an integer")
            }
            return v
        }
        func double(_ key: String) -> Double? { meta["\(arch).\(key)"]?.double }
        let embedding = try int("embedding_length")
        let heads = try int("attention.head_count")
        let vocab = (try? int("vocab_size")) ?? meta["tokenizer.ggml.tokens"]?.array?.count
            ?? gguf.tensor(named: "token_embd.weight")?.shape.last ?? 0
        let headDim = (try? int("attention.key_length")) ?? (try? int("rope.dimension_count")) ?? embedding / max(heads, 1)
        self.init(architecture: arch, vocabularySize: vocab, embeddingLength: embedding,
                  blockCount: try int("block_count"), feedForwardLength: try int("feed_forward_length"),
                  headCount: heads, headCountKV: (try? int("attention.head_count_kv")) ?? heads,
                  headDimension: headDim, contextLength: (try? int("context_length")) ?? 2048,
                  rmsEpsilon: Float(double("attention.layer_norm_rms_epsilon") ?? 1e-5),
                  ropeTheta: Float(double("rope.freq_base") ?? 10000),
                  ropeLayout: arch == "qwen2" ? .halfSplit : .interleaved,
                  tiedEmbeddings: gguf.tensor(named: "output.weight") == nil,
                  attentionBias: gguf.tensor(named: "blk.0.attn_q.bias") != nil)
        try validate(source: file)
    }
}

extension LlamaModel {
    /// Loads a Llama-family GGUF, dequantizing every tensor to fp32 once (Q/K stay in the file's row order,
    /// which matches the interleaved RoPE layout the config names).
    public init(gguf: GGUFFile) throws {
        let config = try ModelConfig(gguf: gguf)
        let file = gguf.url.path
        let d = config.embeddingLength

        func load(_ name: String, _ shape: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
            guard let info = gguf.tensor(named: name) else {
                throw ModelLoadError(file: file, "tensor \(name) is missing")
            }
            guard info.shape == shape else {
                throw ModelLoadError(file: file, "tensor \(name): expected shape \(shape), found \(info.shape)")
            }
            try gguf.dequantize(info, into: destination)
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> FloatBuffer {
            let b = FloatBuffer(count: shape.reduce(1, *))
            try load(name, shape, into: b.buffer)
            return b
        }

        let embedding = try tensor("token_embd.weight", [d, config.vocabularySize])
        // GGUF lists dimensions innermost first: the reverse of the row-major shape.
        var blocks = try (0..<config.blockCount).map { l in
            try BlockWeights(config: config) { t, destination in
                try load("blk.\(l).\(t.ggufName)", t.shape(config).reversed(), into: destination)
            }
        }
        let output = config.tiedEmbeddings ? nil : try tensor("output.weight", [d, config.vocabularySize])
        // The projections also stay in their file's form when a quantized kernel reads it (decode steps).
        func quantized(_ names: [String], columns: Int) -> QuantizedMatrix? {
            let infos = names.compactMap { gguf.tensor(named: $0) }
            guard infos.count == names.count, infos.allSatisfy({ $0.shape.count == 2 && $0.shape[0] == columns }) else {
                return nil
            }
            let formats: [GGMLType: QuantizedMatrix.Format] = [.q4_1: .q4_1, .q8_0: .q8_0]
            guard let format = formats[infos[0].type], infos.allSatisfy({ $0.type == infos[0].type }) else { return nil }
            return QuantizedMatrix(columns: columns, parts: infos.map { (format, $0.shape[1], gguf.bytes(of: $0)) })
        }
        for l in blocks.indices {
            let p = "blk.\(l)."
            guard let qkv = quantized([p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"], columns: d),
                  let o = quantized([p + "attn_output.weight"], columns: config.queryWidth),
                  let gateUp = quantized([p + "ffn_gate.weight", p + "ffn_up.weight"], columns: d),
                  let down = quantized([p + "ffn_down.weight"], columns: config.feedForwardLength) else { continue }
            blocks[l].quantized = QuantizedBlock(qkv: qkv, attentionOutput: o, gateUp: gateUp, down: down)
        }
        let head = quantized([config.tiedEmbeddings ? "token_embd.weight" : "output.weight"], columns: d)
        self.init(config: config, weights: LlamaWeights(tokenEmbedding: embedding, blocks: blocks,
                                                        outputNorm: try tensor("output_norm.weight", [d]),
                                                        output: output, quantizedHead: head))
    }
}
