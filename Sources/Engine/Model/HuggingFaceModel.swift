import Foundation
import ModelFormats

/// Hugging Face model directories: `config.json`, `*.safetensors` (F32/F16/BF16), `tokenizer.json`
/// (+ `tokenizer_config.json` with the chat template).
public enum HuggingFaceModel {
    /// HF tensor name of a block tensor (`self_attn.q_proj.weight`, ...).
    static func name(_ l: Int, _ suffix: String) -> String { "model.layers.\(l).\(suffix)" }

    /// Loads the network: every tensor converted to fp32 once, Q/K in HF row order (half-split RoPE).
    public static func loadNetwork(directory dir: URL) throws -> LlamaModel {
        let config = try ModelConfig(huggingFaceConfig: dir.appendingPathComponent("config.json"))
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "safetensors" }.sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw ModelLoadError(file: dir.path, "no .safetensors files in the directory") }
        var index = [String: (SafeTensorsFile, SafeTensorInfo)]()
        for url in files {
            let f = try SafeTensorsFile(contentsOf: url)
            for (name, info) in f.tensors { index[name] = (f, info) }
        }
        let d = config.embeddingLength
        func load(_ name: String, _ shape: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
            guard let (file, info) = index[name] else { throw ModelLoadError(file: dir.path, "tensor \(name) is missing") }
            guard info.shape == shape else {
                throw ModelLoadError(file: file.url.path, "tensor \(name): expected shape \(shape), found \(info.shape)")
            }
            try file.floats(info, into: destination)
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> FloatBuffer {
            let b = FloatBuffer(count: shape.reduce(1, *))
            try load(name, shape, into: b.buffer)
            return b
        }
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> ProjectionWeight {
            ProjectionWeight(values: try tensor(name, [rows, columns]), rows: rows, columns: columns)
        }
        let blocks = try (0..<config.blockCount).map { l in
            try BlockWeights(config: config) { t, destination in
                try load(name(l, t.huggingFaceName), t.shape(config), into: destination)
            }
        }
        let embedding = try matrix("model.embed_tokens.weight", config.vocabularySize, d)
        let head = config.tiedEmbeddings || index["lm_head.weight"] == nil
            ? nil : try matrix("lm_head.weight", config.vocabularySize, d)
        var c = config
        c.tiedEmbeddings = head == nil
        return LlamaModel(config: c, weights: LlamaWeights(tokenEmbedding: embedding, blocks: blocks,
                                                           outputNorm: try tensor("model.norm.weight", [d]), output: head))
    }

    /// Writes `model` as a Hugging Face directory (F32 safetensors, config, tokenizer files), converting Q/K rows
    /// from the interleaved RoPE order of GGUF Llama files to HF's half-split order when needed.
    public static func write(_ model: LanguageModel, to dir: URL) throws {
        let net = model.network, c = net.config
        let d = c.embeddingLength, hd = c.headDimension
        /// Rows of one head block in HF order from interleaved order: HF row (half, i) = interleaved row (i, half).
        func halfSplitRows(_ rows: [Float], heads: Int) -> [Float] {
            guard c.ropeLayout == .interleaved else { return rows }
            var out = rows
            for h in 0..<heads {
                for half in 0..<2 {
                    for i in 0..<(hd / 2) {
                        let src = (h * hd + 2 * i + half) * d, dst = (h * hd + half * (hd / 2) + i) * d
                        for j in 0..<d { out[dst + j] = rows[src + j] }
                    }
                }
            }
            return out
        }
        var tensors = [SafeTensorsWriter.Tensor]()
        tensors.append(("model.embed_tokens.weight", [c.vocabularySize, d], net.weights.tokenEmbedding.array, .f32))
        for (l, b) in net.weights.blocks.enumerated() {
            for t in BlockTensor.present(c) {
                var values = b.values(of: t, config: c)!
                if t == .query { values = halfSplitRows(values, heads: c.headCount) }
                if t == .key { values = halfSplitRows(values, heads: c.headCountKV) }
                tensors.append((name(l, t.huggingFaceName), t.shape(c), values, .f32))
            }
        }
        tensors.append(("model.norm.weight", [d], net.weights.outputNorm.array, .f32))
        if let head = net.weights.output { tensors.append(("lm_head.weight", [c.vocabularySize, d], head.array, .f32)) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(tensors: tensors, metadata: ["format": "pt"], to: dir.appendingPathComponent("model.safetensors"))
        var hf = c
        hf.ropeLayout = .halfSplit
        let json: ([String: Any]) throws -> Data = {
            try JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        }
        try AtomicFile.write(try json(hf.huggingFaceConfig), to: dir.appendingPathComponent("config.json"))
        let v = model.tokenizer.vocabulary
        try AtomicFile.write(try json(v.huggingFaceTokenizer), to: dir.appendingPathComponent("tokenizer.json"))
        var tc: [String: Any] = ["add_bos_token": v.addBOS, "tokenizer_class": "PreTrainedTokenizerFast"]
        if let b = v.bosID { tc["bos_token"] = v.tokens[b] }
        if let e = v.eosID { tc["eos_token"] = v.tokens[e] }
        if let t = model.chatTemplate { tc["chat_template_format"] = t.format.rawValue }
        if let s = model.chatTemplate?.defaultSystemPrompt { tc["default_system_prompt"] = s }
        try AtomicFile.write(try json(tc), to: dir.appendingPathComponent("tokenizer_config.json"))
    }
}

extension LanguageModel {
    /// Loads a GGUF file or a Hugging Face model directory (whose safetensors are always converted to fp32).
    public init(path url: URL, weights: WeightsPolicy = .auto) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelLoadError(file: url.path, "no such file or directory")
        }
        if let problem = SafeTensorsFile.bareFileProblem(url) { throw ModelLoadError(file: url.path, problem) }
        if !isDirectory.boolValue { try self.init(gguf: url, weights: weights); return }
        let network = try HuggingFaceModel.loadNetwork(directory: url)
        let tokenizer = try Tokenizer(huggingFaceDirectory: url)
        var template: ChatTemplate?
        if let data = try? Data(contentsOf: url.appendingPathComponent("tokenizer_config.json")),
           let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let jinja = config["chat_template"] as? String { template = ChatTemplate.detect(jinja: jinja) }
            if template == nil, let name = config["chat_template_format"] as? String, let f = ChatTemplate.Format(rawValue: name) {
                template = ChatTemplate(format: f, defaultSystemPrompt: config["default_system_prompt"] as? String)
            }
        }
        self.init(network: network, tokenizer: tokenizer, chatTemplate: template, source: url)
    }
}
