import Foundation
import ModelFormats
import Testing
import TestSupport

/// `Tokenizer(huggingFaceJSON:)` on files laid out as Hugging Face writes them.
struct TokenizerHuggingFaceTests {
    func write(_ object: Any, _ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return url
    }

    func write(text: String, _ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// Llama-2's layout: Prepend/Replace normalizers, byte_fallback, merges, a BOS post-processor and the
    /// Strip decoder; the vocabulary is the hand-made SentencePiece one, so the hand-derived ids apply.
    @Test func llama2Layout() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let v = TestVocabularies.sentencePiece()
        var vocab: [String: Int] = [:]
        for (i, t) in v.tokens.enumerated() { vocab[t] = i }
        let json: [String: Any] = [
            "version": "1.0",
            "added_tokens": [
                ["id": 0, "content": "<unk>", "special": true, "normalized": false],
                ["id": 1, "content": "<s>", "special": true, "normalized": false],
                ["id": 2, "content": "</s>", "special": true, "normalized": false],
            ],
            "normalizer": ["type": "Sequence", "normalizers": [
                ["type": "Prepend", "prepend": "▁"],
                ["type": "Replace", "pattern": ["String": " "], "content": "▁"],
            ]],
            "pre_tokenizer": NSNull(),
            "post_processor": ["type": "TemplateProcessing",
                               "single": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]]],
            "decoder": ["type": "Sequence", "decoders": [
                ["type": "Replace", "pattern": ["String": "▁"], "content": " "],
                ["type": "ByteFallback"], ["type": "Fuse"], ["type": "Strip", "content": " ", "start": 1, "stop": 0],
            ]],
            "model": ["type": "BPE", "byte_fallback": true, "fuse_unk": true, "unk_token": "<unk>", "vocab": vocab,
                      "merges": ["h e", "l l", "he ll", "hell o", "▁ hello", "ll o", "l o", "▁ w", "o r", "▁w or", "l d", "▁wor ld"]],
        ]
        let url = try write(json, "tokenizer.json", in: dir)
        let t = try Tokenizer(huggingFaceJSON: url)
        #expect(t.vocabulary.model == .sentencePiece)
        #expect(t.vocabulary.addBOS && t.bosID == 1)
        #expect(t.vocabulary.unknownID == 0)
        #expect(t.encode("hello world") == [1, 271, 278])
        #expect(t.encode("hé", addBOS: false) == [259, 260, 198, 172])
        #expect(t.encode("lll", addBOS: false) == [259, 268, 262])
        #expect(t.decode(t.encode("hé hello"), skipSpecial: true) == "hé hello")

        // tokenizer_config.json beside it: add_bos_token, eos as an object, a chat template.
        _ = try write(["add_bos_token": false, "eos_token": ["content": "</s>"],
                       "chat_template": "{{ bos_token + '[INST] ' }}<<SYS>>"], "tokenizer_config.json", in: dir)
        let c = try Tokenizer(huggingFaceDirectory: dir)
        #expect(c.encode("hello world") == [271, 278])
        #expect(c.eosID == 2)
        #expect(c.vocabulary.chatTemplate.flatMap(ChatTemplate.detect(jinja:))?.format == .llama2)
    }

    /// SmolLM2's own layout (Digits + ByteLevel pre-tokenizer, ByteLevel decoder, added specials) filled with the
    /// default model's vocabulary and merges: same ids as the reference on its 40 strings.
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
    func smolLM2Layout() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let g = try TokenizerVocabulary(gguf: GGUFFile(contentsOf: Fixtures.defaultModel))
        var vocab: [String: Int] = [:]
        for (i, t) in g.tokens.enumerated() { vocab[t] = i }
        let added = (0..<17).map { ["id": $0, "content": g.tokens[$0], "special": true] as [String: Any] }
        let json: [String: Any] = [
            "version": "1.0", "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            ]],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "vocab": vocab, "merges": g.merges.map { $0.split(separator: " ").map(String.init) },
                      "unk_token": "<|endoftext|>", "byte_fallback": false, "ignore_merges": false],
        ]
        _ = try write(json, "tokenizer.json", in: dir)
        _ = try write(["add_bos_token": false, "bos_token": "<|im_start|>", "eos_token": "<|im_end|>",
                       "chat_template": try #require(g.chatTemplate)], "tokenizer_config.json", in: dir)
        let t = try Tokenizer(huggingFaceDirectory: dir)
        #expect(t.vocabulary.preTokenizer == "smollm")
        #expect(t.bosID == 1 && t.eosID == 2 && !t.vocabulary.addBOS)
        let data = try Data(contentsOf: Fixtures.reference.appendingPathComponent("tokenizer.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        for c in cases {
            let text = try #require(c["text"] as? String)
            #expect(t.encode(text) == (c["ids"] as? [Int]), "\(text.debugDescription)")
        }
        #expect(ChatTemplate.detect(jinja: try #require(t.vocabulary.chatTemplate))?.defaultSystemPrompt
                == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    /// A vocabulary written with `huggingFaceTokenizer` reads back to a tokenizer with the same ids.
    @Test func exportReadsBack() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, v) in [("spm", TestVocabularies.sentencePiece()), ("bpe", TestVocabularies.byteLevel(pre: "llama3"))] {
            let url = try write(v.huggingFaceTokenizer, "\(name).json", in: dir)
            let a = try Tokenizer(vocabulary: v)
            let b = try Tokenizer(huggingFaceJSON: url)
            #expect(b.vocabulary.model == v.model)
            #expect(b.vocabulary.preTokenizer == (v.model == .byteLevelBPE ? "llama3" : "default"))
            for text in ["hello world", "hé lll", "<s>hello</s>", "<|im_start|>ab<|im_end|> 123456", "  x\n\ny  "] {
                #expect(a.encode(text, addBOS: false) == b.encode(text, addBOS: false), "\(name) \(text.debugDescription)")
            }
        }
    }

    @Test func badFilesAreRejectedWithReasons() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func message(_ text: String) throws -> String {
            let url = try write(text: text, "t.json", in: dir)
            do {
                _ = try Tokenizer(huggingFaceJSON: url, config: nil)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(try message("{not json").contains("t.json: file: is not valid JSON"))
        #expect(try message("[1]").contains("expected a JSON object at the top level"))
        #expect(try message(#"{"model": {"type": "WordPiece", "vocab": {}}}"#).contains("model.type: expected \"BPE\", found \"WordPiece\""))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": -3}}}"#).contains("model.vocab[\"a\"]: expected a token id"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [3]}}"#).contains("model.merges[0]"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\w+"}}, "decoder": {"type": "ByteLevel"}}"#)
                .contains("the split pattern \"\\\\w+\" is not one reptune implements"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Whitespace"}}"#)
                .contains("expected a ByteLevel (GPT-2 style) or a SentencePiece-style"))
        let missing = dir.appendingPathComponent("absent.json")
        #expect(throws: TokenizerError.self) { try Tokenizer(huggingFaceJSON: missing) }
    }
}
