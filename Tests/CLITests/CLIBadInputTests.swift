import Foundation
import ModelFormats
import Testing
import TestSupport

/// Bad input to the command line gives a clear error and a non-zero exit, never a crash.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing))
struct CLIBadInputTests {
    func expectFailure(_ args: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(r.status != 0 && r.status < 128, "exit status \(r.status) for \(args)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(r.stderr.contains(m), "stderr of \(args) should mention \"\(m)\": \(r.stderr)", sourceLocation: sourceLocation)
        }
    }

    func temp(_ name: String, _ data: Data) throws -> String {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    @Test func missingFile() throws {
        try expectFailure(["inspect", "/nonexistent/model.gguf"], mentions: ["/nonexistent/model.gguf", "no such file"])
    }

    @Test func nonGGUFFile() throws {
        let path = try temp("notes.txt", Data("just some text, not a model".utf8))
        try expectFailure(["forward", path, "--prompt", "hi"], mentions: [path, "not a GGUF file"])
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func truncatedGGUF() throws {
        let handle = try FileHandle(forReadingFrom: Fixtures.defaultModel)
        let head = try handle.read(upToCount: 5_000_000) ?? Data()
        let path = try temp("truncated.gguf", head)
        try expectFailure(["inspect", path], mentions: [path, "truncated", "byte"])
    }

    @Test func unknownTensorType() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        try w.addTensor(name: "token_embd.weight", shape: [32], values: [Float](repeating: 0, count: 32))
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("w.gguf")
        try w.write(to: url)
        var bytes = [UInt8](try Data(contentsOf: url))
        let name = Array("token_embd.weight".utf8)
        let at = try #require((0..<bytes.count).first { Array(bytes[$0..<min($0 + name.count, bytes.count)]) == name })
        bytes[at + name.count + 4 + 8] = 77  // type id after n_dims and one dimension
        let path = try temp("odd.gguf", Data(bytes))
        try expectFailure(["inspect", path], mentions: [path, "token_embd.weight", "77"])
        try expectFailure(["forward", path, "--prompt", "hi"], mentions: [path, "77"])
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func emptyPromptAndPromptLongerThanTheContext() throws {
        try expectFailure(["forward", "--prompt", ""], mentions: ["prompt is empty"])
        let long = String(repeating: "word ", count: 8300)
        try expectFailure(["generate", "--prompt", long, "--max-tokens", "4"], mentions: ["more than the model's context of 8192 tokens"])
    }

    /// `--template` shapes `--chat` only; with `--prompt` it is refused rather than ignored.
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func templateWithARawPromptIsRefused() throws {
        try expectFailure(["generate", "--prompt", "hi", "--template", "chatml"], mentions: ["--template applies to --chat"])
        try expectFailure(["forward", "--prompt", "hi", "--template", "llama3"], mentions: ["--template applies to --chat"])
    }

    /// SmolLM2 ends a raw instruction at once (greedy); the empty answer comes with a line on stderr that says so
    /// and points to --chat, instead of a silent blank line.
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func anEmptyGenerationIsExplained() throws {
        let r = try CLI.run(["generate", "--prompt", "Tell me a long story about a dragon.", "--max-tokens", "16"])
        #expect(r.status == 0 && r.stdout == "\n", "\(r)")
        #expect(r.stderr.contains("the model produced no text (it ended at once with") && r.stderr.contains("--chat FILE.json"), "\(r.stderr)")
        let chat = try temp("chat.json", Data(#"[{"role": "user", "content": "Tell me a long story about a dragon."}]"#.utf8))
        let answered = try CLI.run(["generate", "--chat", chat, "--max-tokens", "16"])
        #expect(answered.status == 0 && answered.stdout.count > 20 && answered.stderr.isEmpty, "\(answered)")
    }

    @Test func usageErrors() throws {
        try expectFailure(["generat"], mentions: ["unknown command", "did you mean \"generate\""])
        try expectFailure(["forward", "--promt", "x"], mentions: ["unknown option --promt"])
    }
}

/// The command line reproduces the reference outputs.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing), .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
struct CLIReferenceTests {
    func reference(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.reference.appendingPathComponent("prompts.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require((root["prompts"] as! [[String: Any]]).first { $0["name"] as? String == name })
    }

    @Test func forwardReproducesTopLogitsAndGenerateTheGreedyContinuation() throws {
        let c = try reference("capital")
        let r = try CLI.run(["forward", "--prompt", c["text"] as! String, "--top", "20", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((out["ids"] as! [NSNumber]).map(\.intValue) == (c["token_ids"] as! [NSNumber]).map(\.intValue))
        let top = (out["top"] as! [[String: Any]]).map { ($0["id"] as! NSNumber).intValue }
        #expect(top == (c["top20"] as! [[NSNumber]]).map { $0[0].intValue })
        let g = try CLI.run(["generate", "--prompt", c["text"] as! String, "--max-tokens", "20", "--json"])
        let gen = try #require(try JSONSerialization.jsonObject(with: Data(g.stdout.utf8)) as? [String: Any])
        #expect((gen["ids"] as! [NSNumber]).map(\.intValue) == (c["greedy_continuation_ids"] as! [NSNumber]).map(\.intValue))
        // Peak RSS while running SmolLM2 stays under 1.5 GB.
        let peak = (gen["peakResidentBytes"] as! NSNumber).intValue
        #expect(peak > 100_000_000 && peak < 1_500_000_000, "peak RSS \(peak) bytes")
    }

    @Test func steeredGenerationFromAJSONVector() throws {
        let c = try reference("steered")
        let steer = c["steer"] as! [String: Any]
        let dir = try Fixtures.temporaryDirectory()
        let vector = dir.appendingPathComponent("v.json")
        try JSONSerialization.data(withJSONObject: steer["vector"]!).write(to: vector)
        let g = try CLI.run(["generate", "--prompt", c["text"] as! String, "--max-tokens", "20", "--json",
                             "--steer", vector.path, "--layer", "\(steer["layer"]!)", "--mult", "\(steer["multiplier"]!)"])
        #expect(g.status == 0, "\(g.stderr)")
        let gen = try #require(try JSONSerialization.jsonObject(with: Data(g.stdout.utf8)) as? [String: Any])
        #expect((gen["ids"] as! [NSNumber]).map(\.intValue) == (c["greedy_continuation_ids"] as! [NSNumber]).map(\.intValue))
    }
}
