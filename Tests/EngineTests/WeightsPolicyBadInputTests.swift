import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// Model files the weights policies cannot hold: a tensor type without a kernel, an fp32 copy larger than the
/// memory available. Each gives an error naming the file, the tensor and its type, and what to do.
@Suite struct WeightsPolicyBadInputTests {
    /// A one-block llama GGUF (d 256, so that K-quant rows are whole super-blocks) with `attn_q` stored as `type`
    /// (random blocks) and every other tensor f32.
    static func tinyModel(queryType: GGMLType, in dir: URL) throws -> URL {
        let d = 256, ff = 512, vocab = 16
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        for (key, value) in [("embedding_length", d), ("block_count", 1), ("feed_forward_length", ff),
                             ("attention.head_count", 2), ("attention.head_count_kv", 2), ("context_length", 64),
                             ("vocab_size", vocab)] {
            w.set("llama.\(key)", .uint32(UInt32(value)))
        }
        var g = SeededGenerator(seed: 1)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in (g.nextUnit() - 0.5) * 0.1 } }
        try w.addTensor(name: "token_embd.weight", shape: [d, vocab], values: values(d * vocab))
        let blockBytes = (0..<(d * d / queryType.blockSize * queryType.bytesPerBlock)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        try blockBytes.withUnsafeBytes { try w.addRawTensor(name: "blk.0.attn_q.weight", shape: [d, d], type: queryType, bytes: $0) }
        for (name, shape) in [("attn_k.weight", [d, d]), ("attn_v.weight", [d, d]), ("attn_output.weight", [d, d]),
                              ("ffn_gate.weight", [d, ff]), ("ffn_up.weight", [d, ff]), ("ffn_down.weight", [ff, d]),
                              ("attn_norm.weight", [d]), ("ffn_norm.weight", [d])] {
            try w.addTensor(name: "blk.0." + name, shape: shape, values: values(shape.reduce(1, *)))
        }
        try w.addTensor(name: "output_norm.weight", shape: [d], values: values(d))
        let url = dir.appendingPathComponent("tiny-\(queryType.name).gguf")
        try w.write(to: url)
        return url
    }

    @Test(arguments: [WeightsPolicy.native, .fp32])
    func aTypeWithoutAKernelNamesTheTensorAndType(policy: WeightsPolicy) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.tinyModel(queryType: .q2_K, in: dir)
        let error = #expect(throws: ModelLoadError.self) { try LlamaModel(gguf: GGUFFile(contentsOf: url), weights: policy) }
        let text = "\(error!)"
        for part in [url.path, "blk.0.attn_q.weight", "q2_K", "cannot read", "q4_K", "llama-quantize"] {
            #expect(text.contains(part), "\(text) should mention \(part)")
        }
    }

    /// The same file with a supported type loads under both policies and gives the same logits to fp32 rounding.
    @Test func theSameFileWithAKernelTypeLoadsUnderBothPolicies() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.tinyModel(queryType: .q4_K, in: dir)
        let native = try LlamaModel(gguf: GGUFFile(contentsOf: url), weights: .native)
        let fp32 = try LlamaModel(gguf: GGUFFile(contentsOf: url), weights: .fp32)
        #expect(native.weights.blocks[0].qkv.isNative && !fp32.weights.blocks[0].qkv.isNative)
        // 12 tokens: more than the dot path's rows, so both run exact fp32 products.
        var a = [ForwardItem(tokens: Array(0..<12), cache: native.makeCache())], b = [ForwardItem(tokens: Array(0..<12), cache: fp32.makeCache())]
        let la = native.forward(&a)[0].lastLogits, lb = fp32.forward(&b)[0].lastLogits
        #expect(Compare.maxAbs(la, lb) < 1e-4)
    }
}
