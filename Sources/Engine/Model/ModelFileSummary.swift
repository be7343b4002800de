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
