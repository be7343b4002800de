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
    /// Loads a Llama-family GGUF under a weights policy: `fp32` dequantizes every tensor once (Q/K stay in the
    /// file's row order, which matches the interleaved RoPE layout the config names) and keeps the file's q4_1/q8_0
    /// blocks beside the copy for decode steps; `native` reads every projection, the embeddings and the head in place
    /// from the file's memory map (norms and biases, a few KB, are copied to fp32); `auto` picks by size
    /// (`WeightsPolicy.fp32Limit`).
    ///
    /// Every tensor is checked (present, shape, a type reptune reads) before anything is converted; an fp32 copy
    /// that would not fit in the memory available is refused before it is allocated.
    public init(gguf: GGUFFile, weights policy: WeightsPolicy = .auto) throws {
        let config = try ModelConfig(gguf: gguf)
        let plan = try GGUFWeightPlan(gguf: gguf, config: config)
        let resolved = policy.resolved(parameters: plan.parameterCount)
        if resolved == .fp32 { try plan.checkMemoryForFP32(requested: policy) }

        func projection(_ names: [String]) throws -> ProjectionWeight {
            let infos = names.map { plan.infos[$0]! }
            let columns = infos[0].shape[0]
            let native = NativeMatrix(columns: columns, parts: try infos.map(plan.encoded), owner: gguf)
            guard resolved == .fp32 else { return ProjectionWeight(encoded: native) }
            let values = FloatBuffer(count: native.rows * columns)
            var offset = 0
            for info in infos {
                try gguf.dequantize(info, into: UnsafeMutableBufferPointer(start: values.pointer + offset, count: info.elementCount))
                offset += info.elementCount
            }
            // The q4_1/q8_0 blocks stay beside the copy for decode steps (`QuantizedMatMul`).
            let decodeKernel = CPUFeatures.hasAVX2 && infos.allSatisfy { QuantizedMatMul.handles($0.type) }
            return ProjectionWeight(values: values, rows: native.rows, columns: columns, encoded: decodeKernel ? native : nil)
        }
        /// Vectors (norms, biases) as fp32, stacked in order.
        func vector(_ names: String...) throws -> FloatBuffer {
            let infos = names.map { plan.infos[$0]! }
            let b = FloatBuffer(count: infos.reduce(0) { $0 + $1.elementCount })
            var offset = 0
            for info in infos {
                try gguf.dequantize(info, into: UnsafeMutableBufferPointer(start: b.pointer + offset, count: info.elementCount))
                offset += info.elementCount
            }
            return b
        }

        let blocks = try (0..<config.blockCount).map { l in
            let p = "blk.\(l)."
            return BlockWeights(
                attentionNorm: try vector(p + BlockTensor.attentionNorm.ggufName),
                qkv: try projection([BlockTensor.query, .key, .value].map { p + $0.ggufName }),
                qkvBias: config.attentionBias
                    ? try vector(p + BlockTensor.queryBias.ggufName, p + BlockTensor.keyBias.ggufName, p + BlockTensor.valueBias.ggufName)
                    : nil,
                attentionOutput: try projection([p + BlockTensor.attentionOutput.ggufName]),
                ffnNorm: try vector(p + BlockTensor.ffnNorm.ggufName),
                gateUp: try projection([p + BlockTensor.gate.ggufName, p + BlockTensor.up.ggufName]),
                down: try projection([p + BlockTensor.down.ggufName]))
        }
        self.init(config: config, weights: LlamaWeights(
            tokenEmbedding: try projection(["token_embd.weight"]), blocks: blocks,
            outputNorm: try vector("output_norm.weight"),
            output: config.tiedEmbeddings ? nil : try projection(["output.weight"])))
    }
}

/// The tensors a GGUF model is built from, checked before any is read: each present, with the shape the config
/// implies and a type reptune reads; their sizes for the memory plan.
struct GGUFWeightPlan {
    let gguf: GGUFFile
    let config: ModelConfig
    /// Every tensor the model reads, by name.
    var infos: [String: GGUFTensorInfo] = [:]

    init(gguf: GGUFFile, config c: ModelConfig) throws {
        self.gguf = gguf
        self.config = c
        let d = c.embeddingLength
        var wanted: [(String, [Int])] = [("token_embd.weight", [c.vocabularySize, d])]
        for l in 0..<c.blockCount {
            for t in BlockTensor.present(c) { wanted.append(("blk.\(l).\(t.ggufName)", t.shape(c))) }
        }
        if !c.tiedEmbeddings { wanted.append(("output.weight", [c.vocabularySize, d])) }
        wanted.append(("output_norm.weight", [d]))
        let file = gguf.url.path
        for (name, rowMajor) in wanted {
            guard let info = gguf.tensor(named: name) else { throw ModelLoadError(file: file, "tensor \(name) is missing") }
            // GGUF lists dimensions innermost first: the reverse of the row-major shape.
            guard info.shape == rowMajor.reversed() else {
                throw ModelLoadError(file: file, "tensor \(name): expected shape \(Array(rowMajor.reversed())), found \(info.shape)")
            }
            guard info.type.canDequantize else {
                throw ModelLoadError(file: file, "tensor \(name) has type \(info.type.name), which reptune cannot read under any "
                    + "weights policy (it reads " + GGMLType.allCases.filter(\.canDequantize).map(\.name).joined(separator: ", ")
                    + "); convert the file with llama.cpp's llama-quantize to one of those types")
            }
            infos[name] = info
        }
    }

    /// Number of weights the model holds.
    var parameterCount: Int { infos.values.reduce(0) { $0 + $1.elementCount } }

    /// The tensor's rows in place, or an error naming the file, the tensor and its type.
    func encoded(_ info: GGUFTensorInfo) throws -> EncodedRows {
        switch EncodedRows.make(type: info.type, rows: info.rowCount, columns: info.shape[0], bytes: gguf.bytes(of: info)) {
        case .success(let rows): return rows
        case .failure(let failure): throw ModelLoadError(file: gguf.url.path, "tensor \(info.name): \(failure)")
        }
    }

    /// Refuses an fp32 copy larger than the memory this machine has available.
    func checkMemoryForFP32(requested: WeightsPolicy) throws {
        let need = parameterCount * 4
        guard let available = MachineMemory.availableBytes, need > available else { return }
        func gib(_ n: Int) -> String { String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        throw ModelLoadError(file: gguf.url.path, "the fp32 weights of this model take \(gib(need)), more than the \(gib(available)) "
            + "of memory available\(requested == .fp32 ? "" : " (chosen by --weights auto)"): use --weights native "
            + "(about \(gib(gguf.fileSize)), the file read in place)")
    }
}
