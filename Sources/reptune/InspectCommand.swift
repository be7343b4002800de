import CommandLineSpec
import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune inspect MODEL`: architecture, tensor types and sizes, tokenizer and chat template of a model: a GGUF
/// file or a Hugging Face model directory (what `generate` loads).
enum InspectCommand {
    struct Report: Encodable {
        var file: String
        /// `gguf` or `huggingface`.
        var format: String
        /// The GGUF version (nil for a Hugging Face directory).
        var version: UInt32?
        var config: ModelConfig?
        var configError: String?
        var tensorTypes: [String: Int]
        var tensorBytes: Int
        var tensors: [[String: String]]?
        var tokenizer: [String: String]
        var chatTemplate: String?
        var metadata: [String: String]
    }

    static func run(_ a: ParsedArguments) throws {
        let url = try ModelLocation.resolve(a.positional.first)
        if a.flag("memory") { return try memory(a, url) }
        for option in ["weights", "batch", "context"] where a.isGiven(option) {
            throw CLIError("--\(option) applies to --memory")
        }
        let report = InputFile.kind(of: url) == .directory
            ? try huggingFace(url, tensors: a.flag("tensors"))
            : try gguf(url, tensors: a.flag("tensors"))
        if a.json { return try printJSON(report) }
        print("file:         \(report.file) (\(report.version.map { "GGUF v\($0)" } ?? "Hugging Face directory"))")
        if let c = report.config {
            print("architecture: \(c.architecture), \(c.blockCount) blocks, d_model \(c.embeddingLength), FFN \(c.feedForwardLength)")
            print("attention:    \(c.headCount) heads, \(c.headCountKV) KV heads, head dim \(c.headDimension), RoPE θ \(c.ropeTheta) (\(c.ropeLayout.rawValue))")
            print("context:      \(c.contextLength) tokens, RMS ε \(c.rmsEpsilon), vocabulary \(c.vocabularySize), \(c.tiedEmbeddings ? "tied" : "separate") output head")
        } else if let configError = report.configError {
            print("architecture: not loadable by the engine: \(configError)")
        }
        let sizeMB = Double(report.tensorBytes) / 1_048_576
        print("tensors:      \(report.tensors?.count ?? report.tensorTypes.values.reduce(0, +)) (\(String(format: "%.1f", sizeMB)) MiB): " +
              report.tensorTypes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        print("tokenizer:    " + report.tokenizer.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        if let t = report.chatTemplate { print("chat template:\n\(t)") }
        if let list = report.tensors {
            for t in list { print("  \(t["name"]!)  \(t["type"]!)  \(t["shape"]!)  \(t["bytes"]!) bytes") }
        }
    }

    /// `inspect MODEL --memory`: the memory plan for a generation of `--batch` sequences of `--context` tokens.
    static func memory(_ a: ParsedArguments, _ url: URL) throws {
        let summary = try ModelFileSummary(contentsOf: url)
        let batch = a.int("batch") ?? 1
        let context = a.int("context") ?? 512
        guard context <= summary.config.contextLength else {
            throw CLIError("--context \(context): expected 1...\(summary.config.contextLength) (the model's context)")
        }
        let requested = a.weightsPolicy
        let plan = MemoryPlan(summary: summary, policy: requested, workload: .generation(batch: batch, context: context))
        if a.json { return try printJSON(plan) }
        let chosen = requested == .auto ? "auto → \(plan.policy.rawValue)" : plan.policy.rawValue
        print("memory plan for \(url.lastPathComponent): weights \(chosen), \(batch) sequence\(batch == 1 ? "" : "s") of \(context) tokens")
        print(plan.text)
        if let available = MachineMemory.availableBytes {
            let fits = plan.totalBytes <= available
            print(String(format: "this machine: %.1f GiB available — %@", Double(available) / Double(1 << 30),
                         fits ? "fits" : "does not fit" + (plan.policy == .fp32 && summary.supportsNative ? " (try --weights native)" : "")))
        }
    }

    static func gguf(_ url: URL, tensors: Bool) throws -> Report {
        if let problem = SafeTensorsFile.bareFileProblem(url) { throw ModelLoadError(file: url.path, problem) }
        let file = try GGUFFile(contentsOf: url)
        var config: ModelConfig?, configError: String?
        do { config = try ModelConfig(gguf: file) } catch { configError = "\(error)" }
        var types = [String: Int]()
        for t in file.tensors { types[t.type.name, default: 0] += 1 }
        let meta = file.metadata
        var tokenizer = [String: String]()
        for key in ["model", "pre", "bos_token_id", "eos_token_id", "add_bos_token"] {
            if let v = meta["tokenizer.ggml.\(key)"] { tokenizer[key] = v.summary }
        }
        tokenizer["vocabulary"] = meta["tokenizer.ggml.tokens"]?.array.map { "\($0.count) tokens" }
        return Report(
            file: url.path, format: "gguf", version: file.version, config: config, configError: configError, tensorTypes: types,
            tensorBytes: file.tensors.reduce(0) { $0 + $1.byteCount },
            tensors: tensors ? file.tensors.map {
                ["name": $0.name, "type": $0.type.name, "shape": "\($0.shape)", "bytes": "\($0.byteCount)"] } : nil,
            tokenizer: tokenizer, chatTemplate: meta["tokenizer.chat_template"]?.string,
            metadata: Dictionary(uniqueKeysWithValues: file.metadataKeys.filter { !$0.hasPrefix("tokenizer.") }
                .map { ($0, meta[$0]!.summary) }))
    }

    /// A Hugging Face directory: `config.json`, the `*.safetensors` tensors, `tokenizer.json` and the chat template
    /// of `tokenizer_config.json`.
    static func huggingFace(_ url: URL, tensors: Bool) throws -> Report {
        var config: ModelConfig?, configError: String?
        do { config = try ModelConfig(huggingFaceConfig: url.appendingPathComponent("config.json")) } catch { configError = "\(error)" }
        let files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "safetensors" }.sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw ModelLoadError(file: url.path, "no .safetensors files: not a Hugging Face model directory") }
        var types = [String: Int](), bytes = 0, list: [[String: String]] = []
        for f in files {
            let st = try SafeTensorsFile(contentsOf: f)
            for name in st.tensorNames {
                guard let t = st.tensors[name] else { continue }
                types[t.dtype.rawValue, default: 0] += 1
                bytes += t.byteCount
                list.append(["name": name, "type": t.dtype.rawValue, "shape": "\(t.shape)", "bytes": "\(t.byteCount)"])
            }
        }
        var tokenizer = [String: String]()
        do {
            let v = try Tokenizer(huggingFaceDirectory: url).vocabulary
            tokenizer["vocabulary"] = "\(v.tokens.count) tokens"
            tokenizer["model"] = "\(v.model)"
            if let b = v.bosID { tokenizer["bos_token_id"] = "\(b)" }
            if let e = v.eosID { tokenizer["eos_token_id"] = "\(e)" }
            tokenizer["add_bos_token"] = "\(v.addBOS)"
        } catch {
            tokenizer["error"] = "\(error)"
        }
        var template: String?
        if let data = try? InputFile.read(url.appendingPathComponent("tokenizer_config.json"), what: "tokenizer_config.json",
                                          maxBytes: InputFile.Limit.smallText),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            template = object["chat_template"] as? String ?? (object["chat_template_format"] as? String).map { "(format \($0))" }
        }
        return Report(file: url.path, format: "huggingface", version: nil, config: config, configError: configError,
                      tensorTypes: types, tensorBytes: bytes, tensors: tensors ? list : nil, tokenizer: tokenizer,
                      chatTemplate: template, metadata: [:])
    }
}
