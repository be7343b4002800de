import Foundation
import ModelFormats
import Testing
import TestSupport

/// The default model's tokenizer against the Hugging Face reference (`../shared/reference/smollm2-135m-q4_1`):
/// 80 strings tokenised with `add_special_tokens=False`, and every prompt fed to the reference model.
@Suite(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
struct TokenizerParityTests {
    static let gguf: GGUFFile? = try? GGUFFile(contentsOf: Fixtures.defaultModel)
    /// Built once for the suite (errors surface in every test that uses it).
    static let loaded = Result { try Tokenizer(gguf: GGUFFile(contentsOf: Fixtures.defaultModel)) }

    func tokenizer() throws -> Tokenizer { try Self.loaded.get() }

    func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.reference.appendingPathComponent(path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func metadataOfTheDefaultModel() throws {
        let t = try tokenizer()
        #expect(t.vocabularySize == 49152)
        #expect(t.bosID == 1)
        #expect(t.eosID == 2)
        #expect(t.vocabulary.preTokenizer == "smollm")
        #expect(t.vocabulary.addBOS == false)
        #expect(t.id(of: "<|im_end|>") == 2)
        #expect(t.stopTokenIDs == [0, 2])  // <|endoftext|>, <|im_end|>
        #expect(t.piece(905) == " world")
        #expect(t.token(905) == "Ġworld")
    }

    /// `tokenizer.json`: 40 strings and their ids.
    @Test func fortyStringsOfTokenizerJSON() throws {
        let t = try tokenizer()
        let cases = try #require(try json("tokenizer.json")["cases"] as? [[String: Any]])
        #expect(cases.count == 40)
        for c in cases {
            let text = try #require(c["text"] as? String)
            let ids = try #require(c["ids"] as? [Int])
            #expect(t.encode(text) == ids, "\(text.debugDescription)")
            #expect(t.decode(ids) == text, "\(text.debugDescription)")
        }
    }

    /// `hf-json/tokenizer_parity.json`: 40 more strings with ids, BPE pieces and decoded text.
    @Test func fortyStringsOfTheSecondSet() throws {
        let t = try tokenizer()
        let cases = try #require(try json("hf-json/tokenizer_parity.json")["cases"] as? [[String: Any]])
        #expect(cases.count == 40)
        for c in cases {
            let text = try #require(c["text"] as? String)
            let ids = try #require(c["ids"] as? [Int])
            let pieces = try #require(c["tokens"] as? [String])
            let decoded = try #require(c["decoded"] as? String)
            let got = t.encode(text)
            #expect(got == ids, "\(text.debugDescription)")
            #expect(got.map { t.token($0) ?? "?" } == pieces, "\(text.debugDescription)")
            #expect(t.decode(ids) == decoded, "\(text.debugDescription)")
        }
    }

    /// `prompts.json`: every prompt's ids; chat cases go through the model's own chat template first.
    @Test func everyPromptOfPromptsJSON() throws {
        let t = try tokenizer()
        let jinja = try #require(t.vocabulary.chatTemplate)
        let template = try #require(ChatTemplate.detect(jinja: jinja))
        let prompts = try #require(try json("prompts.json")["prompts"] as? [[String: Any]])
        #expect(prompts.count == 7)
        for p in prompts {
            let name = p["name"] as? String ?? "?"
            let ids = try #require(p["token_ids"] as? [Int])
            var text = try #require(p["text"] as? String)
            if let chat = p["chat"] as? [[String: String]] {
                let messages = chat.map { ChatMessage(role: $0["role"] ?? "", content: $0["content"] ?? "") }
                let rendered = template.render(messages, addGenerationPrompt: true)
                #expect(rendered == text, "\(name)")
                text = rendered
            }
            #expect(t.encode(text) == ids, "\(name)")
        }
    }

    /// `hf-json/case_*.json`: the six inputs, with and without BOS; the chat case rendered from its messages.
    @Test func everyCaseOfTheSecondSet() throws {
        let t = try tokenizer()
        let file = try #require(Self.gguf)
        let template = try #require(ChatTemplate.detect(gguf: file))
        #expect(template.format == .chatml)
        #expect(template.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let index = try #require(try json("hf-json/index.json")["cases"] as? [[String: Any]])
        #expect(index.count == 6)
        for entry in index {
            let file = try #require(entry["file"] as? String)
            let c = try #require(try json("hf-json/" + file)["case"] as? [String: Any])
            let text = try #require(c["model_input_text"] as? String)
            if let chat = c["chat_messages"] as? [[String: String]] {
                let messages = chat.map { ChatMessage(role: $0["role"] ?? "", content: $0["content"] ?? "") }
                #expect(template.render(messages) == text, "\(file)")
            }
            #expect(t.encode(text) == (c["token_ids"] as? [Int]), "\(file)")
            #expect(t.encode(text, addBOS: false) == (c["token_ids_without_bos"] as? [Int]), "\(file)")
            let withBOS = try #require(c["token_ids_with_bos"] as? [Int])
            let ours = t.encode(text, addBOS: true)
            // The reference does not add a second BOS when the text already starts with it.
            #expect(ours == withBOS || (ours.first == 1 && Array(ours.dropFirst()) == withBOS), "\(file)")
            #expect(t.decode(t.encode(text)) == text, "\(file)")
        }
    }

    /// `perplexity.json`: the first 12,000 code points of wikitext-2's test file (CRLF kept) are 2,876 tokens.
    @Test(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
    func wikitextPrefixTokenCount() throws {
        let t = try tokenizer()
        let data = try Data(contentsOf: Fixtures.datasets.appendingPathComponent("wikitext-2-raw/wiki.test.raw"))
        let text = String(decoding: data, as: UTF8.self)
        let prefix = String(String.UnicodeScalarView(text.unicodeScalars.prefix(12_000)))
        let reference = try json("perplexity.json")
        #expect(reference["chars"] as? Int == 12_000)
        #expect(t.encode(prefix).count == (reference["n_tokens"] as? Int))
    }

    /// The whole wikitext-2 test file (1.3 MB) encodes and decodes back to itself.
    @Test(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
    func wholeWikitextRoundTrip() throws {
        let t = try tokenizer()
        let data = try Data(contentsOf: Fixtures.datasets.appendingPathComponent("wikitext-2-raw/wiki.test.raw"))
        let text = String(decoding: data, as: UTF8.self)
        let clock = ContinuousClock()
        var ids: [Int] = []
        let elapsed = clock.measure { ids = t.encode(text) }
        print("wikitext-2 test: \(data.count) bytes → \(ids.count) tokens in \(elapsed)")
        #expect(ids.count > 250_000)
        #expect(t.decode(ids) == text)
    }
}
