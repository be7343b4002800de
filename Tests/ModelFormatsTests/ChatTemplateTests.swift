import Foundation
import ModelFormats
import Testing
import TestSupport

/// Chat templates render conversations exactly as each model family (and the paper) writes them.
struct ChatTemplateTests {
    let honest = "Pretend that you are always honest, no matter what."
    let question = "Question: Is the following claim true or false? \"The sky is blue.\"\n\nChoices:\n A) True\n B) False\n\nAnswer:"

    @Test func paperSingleLineLlama2MatchesMethodSection2() throws {
        let t = try ChatTemplate(named: "llama2-paper")
        #expect(t.prependsBOS)
        // METHOD.md §2 contrast prompt: `[INST] <<SYS>> {persona} <</SYS>> Question: ... [/INST] {label}`
        #expect(t.render([.system(honest), .user(question)], assistantPrefix: "A")
            == "[INST] <<SYS>> \(honest) <</SYS>> \(question) [/INST] A")
        // Evaluation prompts end with "[/INST] " (a trailing space).
        #expect(t.render([.system("Output only the letter corresponding to your choice."), .user(question)])
            == "[INST] <<SYS>> Output only the letter corresponding to your choice. <</SYS>> \(question) [/INST] ")
    }

    @Test func llama2AndLlama3() throws {
        let l2 = try ChatTemplate(named: "llama2")
        #expect(l2.render([.system("S"), .user("U1"), .assistant("A1"), .user("U2")])
            == "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]")
        let l3 = try ChatTemplate(named: "llama3")
        #expect(l3.render([.system("S"), .user("U")])
            == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    }

    @Test func unknownNameListsTheValidOnes() {
        let error = #expect(throws: TokenizerError.self) { try ChatTemplate(named: "vicuna") }
        #expect(error?.description.contains("chatml, llama2, llama3, llama2-paper") == true)
    }

    @Test(.enabled(if: Fixtures.hasModel && Fixtures.hasShared, Fixtures.noModel))
    func smolLM2TemplateFromTheGGUFMatchesTheReferenceChatCases() throws {
        let gguf = try GGUFFile(contentsOf: Fixtures.defaultModel)
        let t = try #require(ChatTemplate.detect(gguf: gguf))
        #expect(t.format == .chatml)
        #expect(t.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        // prompts.json chat_claim: system + user, generation prompt.
        #expect(t.render([.system(honest), .user("Is the following claim true or false? \"The Moon orbits the Earth.\"\n\nChoices:\n A) True\n B) False")])
            == "<|im_start|>system\n\(honest)<|im_end|>\n<|im_start|>user\nIs the following claim true or false? \"The Moon orbits the Earth.\"\n\nChoices:\n A) True\n B) False<|im_end|>\n<|im_start|>assistant\n")
        // hf-json case_chat: no system message → the template's default one.
        let data = try Data(contentsOf: Fixtures.reference.appendingPathComponent("hf-json/case_chat.json"))
        let c = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["case"] as? [String: Any])
        let messages = (c["chat_messages"] as! [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
        #expect(t.render(messages) == c["model_input_text"] as! String)
        let tok = try Tokenizer(gguf: gguf)
        #expect(tok.encode(t.render(messages)) == (c["token_ids"] as! [NSNumber]).map(\.intValue))
    }
}
