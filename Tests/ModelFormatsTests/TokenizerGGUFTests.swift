import Foundation
import ModelFormats
import Testing
import TestSupport

/// `Tokenizer(gguf:)` on small GGUF files written with the hand-made SentencePiece vocabulary, and the errors
/// for tokenizer metadata of the wrong shape.
struct TokenizerGGUFTests {
    func file(_ edit: (inout [String: GGUFValue]) -> Void) throws -> (GGUFFile, URL) {
        let v = TestVocabularies.sentencePiece()
        var meta: [String: GGUFValue] = [
            "general.architecture": .string("llama"),
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": .array(v.tokens.map { .string($0) }),
            "tokenizer.ggml.token_type": .array(v.tokenTypes.map { .int32(Int32($0.rawValue)) }),
            "tokenizer.ggml.scores": .array(v.scores.map { .float32($0) }),
            "tokenizer.ggml.bos_token_id": .uint32(1),
            "tokenizer.ggml.eos_token_id": .uint32(2),
            "tokenizer.ggml.unknown_token_id": .uint32(0),
            "tokenizer.chat_template": .string("{{ bos_token }}[INST] <<SYS>>"),
        ]
        edit(&meta)
        var w = GGUFWriter()
        for key in meta.keys.sorted() { w.set(key, meta[key]!) }
        let dir = try Fixtures.temporaryDirectory()
        let url = dir.appendingPathComponent("vocab.gguf")
        try w.write(to: url)
        return (try GGUFFile(contentsOf: url), dir)
    }

    func message(_ edit: (inout [String: GGUFValue]) -> Void) throws -> String {
        let (f, dir) = try file(edit)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Tokenizer(gguf: f)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func llamaVocabularyFromGGUF() throws {
        let (f, dir) = try file { _ in }
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tokenizer(gguf: f)
        // Defaults for a SentencePiece file without the flags: BOS added, space prefix on.
        #expect(t.vocabulary.addBOS && t.vocabulary.addSpacePrefix)
        #expect(t.encode("hello world") == [1, 271, 278])
        #expect(t.encode("hé", addBOS: false) == [259, 260, 198, 172])
        #expect(ChatTemplate.detect(gguf: f)?.format == .llama2)
        #expect(try t.vocabulary == TokenizerVocabulary(gguf: f))
    }

    @Test func flagsFromMetadata() throws {
        let (f, dir) = try file {
            $0["tokenizer.ggml.add_bos_token"] = .bool(false)
            $0["tokenizer.ggml.add_eos_token"] = .bool(true)
            $0["tokenizer.ggml.add_space_prefix"] = .bool(false)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tokenizer(gguf: f)
        // No ▁ before the first word now: h e l l o → hello (270), then ▁world.
        #expect(t.encode("hello world") == [270, 278, 2])
    }

    @Test func badMetadataIsRejectedWithReasons() throws {
        #expect(try message { $0["tokenizer.ggml.model"] = nil }.contains("metadata \"tokenizer.ggml.model\": missing"))
        #expect(try message { $0["tokenizer.ggml.model"] = .string("bert") }.contains("expected \"gpt2\" (byte-level BPE) or \"llama\" (SentencePiece), found \"bert\""))
        #expect(try message { $0["tokenizer.ggml.tokens"] = .uint32(3) }.contains("tokenizer.ggml.tokens\": expected an array of strings, found a uint32"))
        #expect(try message { $0["tokenizer.ggml.token_type"] = .array([.int32(9)]) }.contains("item 0: expected a token type 0…6, found 9"))
        #expect(try message { $0["tokenizer.ggml.scores"] = .array([.string("x")]) }.contains("expected an array of numbers"))
        #expect(try message { $0["tokenizer.ggml.bos_token_id"] = .string("1") }.contains("bos_token_id\": expected an integer"))
        #expect(try message { $0["tokenizer.ggml.eos_token_id"] = .uint32(999) }.contains("vocab.gguf: eos id: expected a token id in 0..<279, found 999"))
        #expect(try message { $0["tokenizer.ggml.scores"] = nil }.contains("needs either merges or one score per token"))
    }
}
