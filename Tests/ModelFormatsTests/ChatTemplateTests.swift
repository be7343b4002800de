import ModelFormats
import Testing

/// Each chat format against strings written out by hand from its definition.
struct ChatTemplateTests {
    let system = ChatMessage.system("Be brief.")
    let user = ChatMessage.user("What is 2+2?")
    let assistant = ChatMessage.assistant("4")

    @Test func chatML() {
        let t = ChatTemplate(format: .chatml)
        #expect(t.render([system, user]) ==
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
        #expect(t.render([user], addGenerationPrompt: false) == "<|im_start|>user\nWhat is 2+2?<|im_end|>\n")
        #expect(t.render([user, assistant], addGenerationPrompt: false) ==
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n")
        #expect(t.render([system, user], assistantPrefix: "A") ==
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\nA")
        #expect(!t.prependsBOS)
    }

    @Test func chatMLWithADefaultSystemPrompt() {
        let t = ChatTemplate(format: .chatml, defaultSystemPrompt: "You are helpful.")
        #expect(t.render([user]) ==
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
        // A conversation that brings its own system turn gets no default one.
        #expect(t.render([system, user]) == ChatTemplate(format: .chatml).render([system, user]))
        #expect(t.render([]) == "<|im_start|>assistant\n")
    }

    @Test func llama2() {
        let t = ChatTemplate(format: .llama2)
        #expect(t.render([system, user]) == "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is 2+2? [/INST]")
        #expect(t.render([user, assistant, .user(" And 3+3? ")]) ==
            "<s>[INST] What is 2+2? [/INST] 4 </s><s>[INST] And 3+3? [/INST]")
        #expect(t.render([system, user], assistantPrefix: "A") ==
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is 2+2? [/INST] A")
        #expect(!t.prependsBOS)
    }

    @Test func llama3() {
        let t = ChatTemplate(format: .llama3)
        #expect(t.render([system, user]) ==
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n")
        #expect(t.render([user], assistantPrefix: "B") ==
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nB")
    }

    /// METHOD.md §2: the paper's contrast and evaluation prompts, character for character.
    @Test func llama2Paper() throws {
        let t = try ChatTemplate(named: "llama2-paper")
        #expect(t.prependsBOS)
        let question = "Question: Is the following claim true or false? \"The sky is blue.\"\n\nChoices:\n A) True\n B) False\n\nAnswer:"
        let contrast = t.render([.system("Pretend that you are always honest, no matter what."), .user(question)],
                                assistantPrefix: "A")
        #expect(contrast == "[INST] <<SYS>> Pretend that you are always honest, no matter what. <</SYS>> Question: Is the following claim true or false? \"The sky is blue.\"\n\nChoices:\n A) True\n B) False\n\nAnswer: [/INST] A")
        let evaluation = t.render([.system("Output only the letter corresponding to your choice."), .user(question)])
        #expect(evaluation == "[INST] <<SYS>> Output only the letter corresponding to your choice. <</SYS>> Question: Is the following claim true or false? \"The sky is blue.\"\n\nChoices:\n A) True\n B) False\n\nAnswer: [/INST] ")
        #expect(t.render([.user("X\nor\nY")]) == "[INST] X\nor\nY [/INST] ")
    }

    @Test func namesAndErrors() throws {
        for f in ChatTemplate.Format.allCases { #expect(try ChatTemplate(named: f.rawValue).format == f) }
        #expect(throws: ChatTemplateError.unknownName("vicuna")) { try ChatTemplate(named: "vicuna") }
        #expect("\(ChatTemplateError.unknownName("vicuna"))"
                == "unknown chat template \"vicuna\"; expected one of: chatml, llama2, llama3, llama2-paper")
    }

    @Test func detectionFromJinja() {
        let smol = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        #expect(ChatTemplate.detect(jinja: smol) == ChatTemplate(format: .chatml, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        // The same with the escapes left in the Jinja source (\\n inside the string literal).
        let escaped = #"{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"#
        #expect(ChatTemplate.detect(jinja: escaped)?.defaultSystemPrompt == "You are a helpful assistant.")
        // Plain ChatML: the system text comes from the messages, so there is no default.
        let plain = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        #expect(ChatTemplate.detect(jinja: plain) == ChatTemplate(format: .chatml))
        let llama2 = "{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' %}{% endif %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
        #expect(ChatTemplate.detect(jinja: llama2)?.format == .llama2)
        let llama3 = "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
        #expect(ChatTemplate.detect(jinja: llama3)?.format == .llama3)
        #expect(ChatTemplate.detect(jinja: "{{ messages }}") == nil)
    }

    @Test func messagesAreCodable() throws {
        let data = Data(#"[{"role":"user","content":"hi"}]"#.utf8)
        #expect(try JSONDecoder().decode([ChatMessage].self, from: data) == [.user("hi")])
    }
}

import Foundation
