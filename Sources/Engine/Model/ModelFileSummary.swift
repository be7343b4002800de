import Foundation
import ModelFormats

/// What the engine needs to know about a model file before loading it: its hyperparameters and the size of the
/// weights it reads in each form. Read from the header alone (a GGUF's metadata and tensor directory, a Hugging
/// Face directory's `config.json` and safetensors headers), so it is cheap for any model size.
public struct ModelFileSummary: Sendable {
    public var file: URL
    public var config: ModelConfig
    /// Size of the file (GGUF) or of the directory's safetensors.
    public var fileBytes: Int
    /// Number of weights the model reads.
    public var parameterCount: Int
    /// Bytes of those weights in the file's encoding.
    public var encodedBytes: Int
    /// Bytes of the token-embedding table in the file's encoding (read whole only when it is also the output head).
    public var embeddingBytes: Int = 0
    /// Whether the weights can stay in the file's encoding (GGUF); Hugging Face directories are always converted.
    public var supportsNative: Bool
    /// Tensor types and how many tensors of each, for display.
    public var tensorTypes: [String: Int]

    public init(file: URL, config: ModelConfig, fileBytes: Int, parameterCount: Int, encodedBytes: Int,
                supportsNative: Bool, tensorTypes: [String: Int]) {
        self.file = file
        self.config = config
        self.fileBytes = fileBytes
        self.parameterCount = parameterCount
        self.encodedBytes = encodedBytes
        self.supportsNative = supportsNative
        self.tensorTypes = tensorTypes
    }

    /// Reads a GGUF file's header, or a Hugging Face directory's config and safetensors headers.
    public init(contentsOf url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelLoadError(file: url.path, "no such file or directory")
        }
        if isDirectory.boolValue {
            let config = try ModelConfig(huggingFaceConfig: url.appendingPathComponent("config.json"))
            var parameters = 0, bytes = 0, types = [String: Int]()
            for f in try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                where f.pathExtension == "safetensors" {
                let st = try SafeTensorsFile(contentsOf: f)
                for info in st.tensors.values {
                    parameters += info.shape.reduce(1, *)
                    types["\(info.dtype)", default: 0] += 1
                }
                bytes += (try? f.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
            }
            self.init(file: url, config: config, fileBytes: bytes, parameterCount: parameters, encodedBytes: bytes,
                      supportsNative: false, tensorTypes: types)
            return
        }
        let gguf = try GGUFFile(contentsOf: url)
        let config = try ModelConfig(gguf: gguf)
        let plan = try GGUFWeightPlan(gguf: gguf, config: config)
        var types = [String: Int]()
        for t in gguf.tensors { types[t.type.name, default: 0] += 1 }
        self.init(file: url, config: config, fileBytes: gguf.fileSize, parameterCount: plan.parameterCount,
                  encodedBytes: plan.infos.values.reduce(0) { $0 + $1.byteCount }, supportsNative: true, tensorTypes: types)
        embeddingBytes = plan.infos["token_embd.weight"]?.byteCount ?? 0
    }

    /// The policy a load under `policy` uses: `auto` resolved by size; fp32 for files that cannot stay native.
    public func resolve(_ policy: WeightsPolicy) -> WeightsPolicy {
        supportsNative ? policy.resolved(parameters: parameterCount) : .fp32
    }
}

extension ModelFileSummary {
    /// Shapes of well-known models, for planning a study whose model file is not here yet (a manifest for
    /// Llama-2-13b-chat on a machine that has not downloaded it): matched by the file name, with the encoding's
    /// size from its quantization tag (`Q8_0`, `Q4_K_M`, `F16`, …; Q8_0 when there is none).
    public static func guess(fileName: String) -> ModelFileSummary? {
        let name = fileName.lowercased()
        let shapes: [(String, ModelConfig)] = [
            ("llama-2-7b", llama(blocks: 32, d: 4096, ff: 11008, heads: 32, kv: 32, vocab: 32000, context: 4096)),
            ("llama-2-13b", llama(blocks: 40, d: 5120, ff: 13824, heads: 40, kv: 40, vocab: 32000, context: 4096)),
            ("llama-3-8b", llama(blocks: 32, d: 4096, ff: 14336, heads: 32, kv: 8, vocab: 128256, context: 8192)),
            ("llama-3.1-8b", llama(blocks: 32, d: 4096, ff: 14336, heads: 32, kv: 8, vocab: 128256, context: 8192)),
            ("mistral-7b", llama(blocks: 32, d: 4096, ff: 14336, heads: 32, kv: 8, vocab: 32000, context: 8192)),
        ]
        guard let (_, config) = shapes.first(where: { name.contains($0.0) }) else { return nil }
        let bits: [(String, Double)] = [("q8_0", 8.5), ("q6_k", 6.5625), ("q5_k", 5.7), ("q5_1", 6), ("q5_0", 5.5),
                                         ("q4_k_s", 4.6), ("q4_k", 4.85), ("q4_1", 5), ("q4_0", 4.5), ("bf16", 16),
                                         ("f16", 16), ("f32", 32)]
        let bitsPerWeight = bits.first { name.contains($0.0) }?.1 ?? 8.5
        let parameters = config.blockCount * config.weightsPerBlock + 2 * config.vocabularySize * config.embeddingLength
            + config.embeddingLength
        let bytes = Int(Double(parameters) * bitsPerWeight / 8)
        var summary = ModelFileSummary(file: URL(fileURLWithPath: fileName), config: config, fileBytes: bytes,
                                       parameterCount: parameters, encodedBytes: bytes, supportsNative: true,
                                       tensorTypes: [:])
        summary.embeddingBytes = Int(Double(config.vocabularySize * config.embeddingLength) * bitsPerWeight / 8)
        return summary
    }

    private static func llama(blocks: Int, d: Int, ff: Int, heads: Int, kv: Int, vocab: Int, context: Int) -> ModelConfig {
        ModelConfig(architecture: "llama", vocabularySize: vocab, embeddingLength: d, blockCount: blocks, feedForwardLength: ff,
                    headCount: heads, headCountKV: kv, contextLength: context, rmsEpsilon: 1e-5, ropeTheta: 10000,
                    ropeLayout: .interleaved, tiedEmbeddings: false, attentionBias: false)
    }
}
