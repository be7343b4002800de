import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// A Hugging Face directory written from the SmolLM2 GGUF (safetensors + config.json + tokenizer.json) loads
/// and computes the same logits, tokens and chat prompts as the GGUF.
@Suite(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
struct HuggingFaceDirectoryTests {
    @Test func sameLogitsAndTokensAsTheGGUF() throws {
        let gguf = try LanguageModel(gguf: Fixtures.defaultModel)
        let dir = try Fixtures.temporaryDirectory("hf-smollm2")
        defer { try? FileManager.default.removeItem(at: dir) }
        try HuggingFaceModel.write(gguf, to: dir)
        for f in ["model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
        let hf = try LanguageModel(path: dir)
        #expect(hf.network.config.ropeLayout == .halfSplit)
        #expect(hf.network.config.blockCount == 30 && hf.network.config.tiedEmbeddings)
        for c in ReferenceCase.all where c.steer == nil {
            var items = [ForwardItem(tokens: c.tokenIDs, cache: hf.network.makeCache())]
            let logits = hf.network.forward(&items)[0].lastLogits
            #expect(Compare.maxAbs(logits, c.lastLogits) < 5e-3, "\(c.name)")
            #expect(Compare.topK(logits, 20) == c.top20, "\(c.name)")
        }
        let text = "Hello world! 12345 naïve 東京 <|im_start|>user\n"
        #expect(hf.tokenizer.encode(text) == gguf.tokenizer.encode(text))
        let chat: [ChatMessage] = [.user("What is 2+2?")]
        #expect(try hf.render(chat: chat).text == (try gguf.render(chat: chat).text))
    }

    @Test func missingTensorsAndBadConfigAreNamed() throws {
        let dir = try Fixtures.temporaryDirectory("hf-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{\"model_type\": \"gpt2\"}".utf8).write(to: dir.appendingPathComponent("config.json"))
        let e1 = #expect(throws: (any Error).self) { try HuggingFaceModel.loadNetwork(directory: dir) }
        #expect("\(e1!)".contains("model_type") && "\(e1!)".contains("gpt2"))
        let config = ModelConfig(architecture: "llama", vocabularySize: 10, embeddingLength: 4, blockCount: 1, feedForwardLength: 6,
                                 headCount: 2, headCountKV: 1, contextLength: 8, rmsEpsilon: 1e-5, ropeTheta: 1e4,
                                 ropeLayout: .halfSplit, tiedEmbeddings: true, attentionBias: false)
        try JSONSerialization.data(withJSONObject: config.huggingFaceConfig).write(to: dir.appendingPathComponent("config.json"))
        try SafeTensorsWriter.write(tensors: [("model.embed_tokens.weight", [10, 4], [Float](repeating: 0, count: 40), .f32)],
                                    to: dir.appendingPathComponent("model.safetensors"))
        let e2 = #expect(throws: ModelLoadError.self) { try HuggingFaceModel.loadNetwork(directory: dir) }
        #expect(e2?.description.contains("model.layers.0.self_attn.q_proj.weight is missing") == true, "\(e2!)")
    }
}
