import Foundation
import ModelFormats
import Testing
import TestSupport

/// SmolLM2's tokenizer, built from the GGUF, gives exactly the ids of the Hugging Face tokenizer.
@Suite(.enabled(if: Fixtures.hasModel && Fixtures.hasShared, Fixtures.noModel))
struct TokenizerParityTests {
    static let loaded = Result { try Tokenizer(gguf: GGUFFile(contentsOf: Fixtures.defaultModel)) }

    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var ids: [Int]
        var testDescription: String { text.debugDescription }
    }

    static func cases(_ file: String) -> [Case] {
        guard let data = try? Data(contentsOf: Fixtures.reference.appendingPathComponent(file)),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else { return [] }
        return cases.map { Case(text: $0["text"] as! String, ids: ($0["ids"] as! [NSNumber]).map(\.intValue)) }
    }

    @Test(arguments: cases("tokenizer.json") + cases("hf-json/tokenizer_parity.json"))
    func idsMatchTheReference(_ c: Case) throws {
        let tok = try Self.loaded.get()
        #expect(tok.encode(c.text, parseSpecial: true) == c.ids)
        #expect(tok.decode(c.ids) == c.text, "decode round trip")
    }

    @Test func casesAreLoaded() {
        #expect(Self.cases("tokenizer.json").count == 40)
        #expect(Self.cases("hf-json/tokenizer_parity.json").count == 40)
    }

    @Test func promptCasesTokenizeToTheReferenceIDs() throws {
        let tok = try Self.loaded.get()
        let data = try Data(contentsOf: Fixtures.reference.appendingPathComponent("prompts.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for p in root["prompts"] as! [[String: Any]] {
            let text = p["text"] as! String
            #expect(tok.encode(text) == (p["token_ids"] as! [NSNumber]).map(\.intValue), "\(p["name"]!)")
        }
    }

    @Test func specialTokensOnlyWhenAsked() throws {
        let tok = try Self.loaded.get()
        #expect(tok.encode("<|im_start|>user", parseSpecial: true).first == 1)
        let literal = tok.encode("<|im_start|>user", parseSpecial: false)
        #expect(!literal.contains(1) && literal.count > 3)
        #expect(tok.decode(literal) == "<|im_start|>user")
        #expect(tok.encode("Hi", addBOS: true).first == 1)
        #expect(tok.stopTokenIDs.contains(2))
    }

    @Test func randomTextRoundTrips() throws {
        let tok = try Self.loaded.get()
        let alphabet = Array("aZ 09\n\t  .,!?'-éü東京🚀👍🏽\u{301}ΩЖ\r\n\u{200D}#$ 's 're")
        var g = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let n = Int.random(in: 0...40, using: &g)
            let text = String((0..<n).map { _ in alphabet.randomElement(using: &g)! })
            #expect(tok.decode(tok.encode(text, parseSpecial: false)) == text, "\(text.debugDescription)")
        }
    }
}

/// SentencePiece BPE with byte fallback on a hand-made Llama-2-style vocabulary.
struct SentencePieceTests {
    static func vocabulary() -> TokenizerVocabulary {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [TokenizerVocabulary.TokenType] = [.unknown, .control, .control]
        for b in 0..<256 { tokens.append(String(format: "<0x%02X>", b)); types.append(.byte) }
        let pieces = ["▁", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "hell", "hello", "▁hello", "wor", "▁w", "▁wor", "▁world", "or", "ld"]
        let scores: [Float] = Array(repeating: 0, count: 259) + [-1, -1, -1, -1, -1, -1, -1, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12]
        tokens += pieces
        types += Array(repeating: .normal, count: pieces.count)
        return TokenizerVocabulary(model: .sentencePiece, tokens: tokens, types: types, scores: scores, bosID: 1, eosID: 2,
                                   unknownID: 0, addBOS: true, addSpacePrefix: true)
    }

    @Test func mergesByScoreAndFallsBackToBytes() throws {
        let tok = try Tokenizer(vocabulary: Self.vocabulary())
        let id = { (s: String) in tok.id(of: s)! }
        // "▁hello": the highest-scoring merges first: he(-2) → ll(-3) → hell(-4) → hello(-5) → ▁hello(-6).
        #expect(tok.encode("hello") == [1, id("▁hello")])
        // "é" is not in the vocabulary: its two UTF-8 bytes C3 A9.
        #expect(tok.encode("hé", addBOS: false) == [id("▁"), id("h"), id("<0xC3>"), id("<0xA9>")])
        #expect(tok.decode(tok.encode("hello world é", addBOS: false)) == "hello world é")
        #expect(tok.decode([1] + tok.encode("hello", addBOS: false), skipSpecial: true) == "hello")
        #expect(tok.encode("<s>hello", addBOS: false, parseSpecial: true).first == 1)
    }
}
