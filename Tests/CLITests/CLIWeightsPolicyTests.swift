import Foundation
import Testing
import TestSupport

/// `--weights` and `inspect --memory` through the executable: the memory plan printed before loading against the
/// peak resident memory `generate --json` reports for the same model, policy and length, and the native policy's
/// bound from issue 18 (file × 1.1 + KV cache + 150 MB).
@Suite(.serialized, .enabled(if: CLI.executable != nil && Fixtures.hasModel, CLI.missing))
struct CLIWeightsPolicyTests {
    struct Generation: Decodable { var ids: [Int]; var text: String; var peakResidentBytes: Int }
    struct Plan: Decodable {
        struct Line: Decodable { var name: String; var bytes: Int }
        var policy: String
        var lines: [Line]
        var total: Int { lines.reduce(0) { $0 + $1.bytes } }
    }

    func decode<T: Decodable>(_ type: T.Type, _ args: [String]) throws -> T {
        let r = try CLI.run(args)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        return try JSONDecoder().decode(T.self, from: Data(r.stdout.utf8))
    }

    func check(model: URL, policy: String, name: String) throws -> (Generation, Plan) {
        let prompt = "The three most important inventions of the nineteenth century were"
        let g = try decode(Generation.self, ["generate", model.path, "--prompt", prompt, "--max-tokens", "24",
                                             "--weights", policy, "--json"])
        let context = 64
        let plan = try decode(Plan.self, ["inspect", model.path, "--memory", "--weights", policy, "--context", "\(context)", "--json"])
        #expect(plan.policy == policy)
        let measured = Double(g.peakResidentBytes), planned = Double(plan.total)
        print("CLIWeightsPolicyTests: \(name) \(policy): planned \(Int(planned / 1_048_576)) MiB, measured peak \(Int(measured / 1_048_576)) MiB")
        #expect(abs(planned - measured) <= 0.25 * measured, "\(name) \(policy): plan \(planned) vs peak RSS \(measured)")
        if policy == "native" {
            let file = Double(try FileManager.default.attributesOfItem(atPath: model.path)[.size] as! Int)
            let kv = Double(plan.lines.first { $0.name == "KV cache" }!.bytes)
            #expect(measured <= file * 1.1 + kv + 150 * 1_048_576, "\(name): native peak RSS \(measured) over the bound")
        }
        return (g, plan)
    }

    @Test func smolLM2BothPolicies() throws {
        let (native, _) = try check(model: Fixtures.defaultModel, policy: "native", name: "SmolLM2")
        let (fp32, _) = try check(model: Fixtures.defaultModel, policy: "fp32", name: "SmolLM2")
        #expect(native.peakResidentBytes * 3 < fp32.peakResidentBytes)
        #expect(!native.text.isEmpty && !fp32.text.isEmpty)
    }

    @Test(.enabled(if: Fixtures.hasQwen, Fixtures.noQwen))
    func qwen05BNative() throws {
        _ = try check(model: Fixtures.qwenModel, policy: "native", name: "Qwen2.5-Coder-0.5B")
    }

    /// An fp32 copy larger than the memory available (here capped by REPTUNE_MEMORY_LIMIT) is refused before it is
    /// allocated, naming the file and pointing to native, which loads.
    @Test func anFP32CopyThatDoesNotFitIsRefused() throws {
        let limit = ["REPTUNE_MEMORY_LIMIT": "300000000"]
        let r = try CLI.run(["generate", Fixtures.defaultModel.path, "--prompt", "hi", "--max-tokens", "2", "--weights", "fp32"],
                            environment: limit)
        #expect(r.status == 1, "\(r.stderr)")
        for part in [Fixtures.defaultModel.path, "0.5 GiB", "more than the 0.3 GiB", "use --weights native"] {
            #expect(r.stderr.contains(part), "stderr should mention \(part): \(r.stderr)")
        }
        let native = try CLI.run(["generate", Fixtures.defaultModel.path, "--prompt", "hi", "--max-tokens", "2", "--weights", "native"],
                                 environment: limit)
        #expect(native.status == 0, "\(native.stderr)")
        let plan = try CLI.run(["inspect", Fixtures.defaultModel.path, "--memory", "--weights", "fp32"], environment: limit)
        #expect(plan.stdout.contains("does not fit (try --weights native)"), "\(plan.stdout)")
    }

    @Test func badPolicyIsAUsageError() throws {
        let r = try CLI.run(["generate", "--prompt", "hi", "--weights", "int4"])
        #expect(r.status == 2 && r.stderr.contains("--weights int4: expected auto, native or fp32"))
        let m = try CLI.run(["inspect", "--batch", "2"])
        #expect(m.status == 2 && m.stderr.contains("--batch applies to --memory"))
    }
}
