import Foundation
import Testing
import ModelFormats
import TestSupport

@Suite("GGUF writer")
struct GGUFWriterTests {
    static let allValues: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("u8", .uint8(255)), ("i8", .int8(-128)), ("u16", .uint16(65535)), ("i16", .int16(-32768)),
        ("u32", .uint32(.max)), ("i32", .int32(.min)), ("f32", .float32(-0.15625)), ("bool.t", .bool(true)),
        ("bool.f", .bool(false)), ("str", .string("Ωmega — 日本語 🙂")), ("empty", .string("")),
        ("u64", .uint64(.max)), ("i64", .int64(.min)), ("f64", .float64(1.0 / 3.0)),
        ("tokens", .array([.string("<|im_start|>"), .string("Ġthe"), .string("")])),
        ("scores", .array([.float32(-1), .float32(0.5)])),
        ("nested", .array([.array([.int64(1), .int64(-2)]), .array([]), .array([.array([.bool(true)])])])),
        ("no.items", .array([])),
    ]

    @Test("metadata of every value type and f32/f16/bf16 tensors survive write → read", arguments: [32, 64])
    func roundTrip(alignment: Int) throws {
        let dir = try Fixtures.temporaryDirectory("gguf-writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.gguf")
        var w = GGUFWriter(alignment: alignment)
        for (k, v) in Self.allValues { w.set(k, v) }
        w.set("u8", .uint8(7))   // replaced in place, keeps its position
        let a: [Float] = (0..<15).map { Float($0) * 0.37 - 2 }
        let b: [Float] = [1, -2.5, 65504, 1e-4, 0.1, 3]
        let c: [Float] = [1, 1.00390625, -3.14159, 1e30]
        try w.addTensor(name: "a", shape: [5, 3], values: a)
        try w.addTensor(name: "b", shape: [2, 1, 3], values: b, type: .f16)
        try w.addTensor(name: "c", shape: [4], values: c, type: .bf16)
        try w.write(to: url)

        let f = try GGUFFile(contentsOf: url)
        #expect(f.version == 3)
        #expect(f.alignment == alignment)
        var expectedKeys = Self.allValues.map(\.0)
        if alignment != 32 { expectedKeys.append("general.alignment") }
        #expect(f.metadataKeys == expectedKeys)
        for (k, v) in Self.allValues where k != "u8" { #expect(f.metadata[k] == v, "\(k)") }
        #expect(f.metadata["u8"] == .uint8(7))
        #expect(f.tensors.map(\.name) == ["a", "b", "c"])
        #expect(f.tensors.allSatisfy { $0.offset % alignment == 0 })
        #expect(f.dataOffset % alignment == 0)
        #expect(f.tensor(named: "b")?.shape == [2, 1, 3])
        #expect(try f.dequantize("a") == a)
        #expect(try f.dequantize("b") == b.map { Float(Float16($0)) })
        // bf16 keeps the top 16 bits after rounding to nearest even: 1.00390625 = 1 + 2^-8 is a tie → 1;
        // -3.14159 → -3.140625; 1e30 → 1.00000002e30 (0x7149_F2CA → 0x714A).
        #expect(try f.dequantize("c") == [1, 1, -3.140625, Float(bitPattern: 0x714A_0000)])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["model.gguf"])
    }

    @Test("the default model's metadata and a few raw quantized tensors copy through unchanged",
          .enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func copyModel() throws {
        let source = try GGUFFile(contentsOf: Fixtures.defaultModel)
        let dir = try Fixtures.temporaryDirectory("gguf-writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("copy.gguf")
        var w = GGUFWriter(alignment: source.alignment)
        for k in source.metadataKeys { w.set(k, try #require(source.metadata[k])) }
        let names = ["blk.0.attn_q.weight", "blk.3.ffn_norm.weight", "blk.29.ffn_down.weight"]
        for n in names {
            let t = try #require(source.tensor(named: n))
            try w.addRawTensor(name: n, shape: t.shape, type: t.type, bytes: source.bytes(of: t))
        }
        try w.write(to: url)
        let copy = try GGUFFile(contentsOf: url)
        #expect(copy.metadataKeys == source.metadataKeys)
        #expect(copy.metadata == source.metadata)
        for n in names {
            #expect(copy.tensor(named: n)?.shape == source.tensor(named: n)?.shape)
            #expect(try copy.dequantize(n) == source.dequantize(n), "\(n)")
        }
    }

    @Test("writing over an existing file replaces it; invalid input leaves nothing behind")
    func atomicAndValidation() throws {
        let dir = try Fixtures.temporaryDirectory("gguf-writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.gguf")
        try Data("old contents".utf8).write(to: url)
        var w = GGUFWriter()
        w.set("k", .string("v"))
        try w.addTensor(name: "x", shape: [2], values: [1, 2])
        try w.write(to: url)
        #expect(try GGUFFile(contentsOf: url).metadata["k"] == .string("v"))

        // A heterogeneous array cannot be encoded: the error names the key and element, the old file stays.
        var bad = GGUFWriter()
        bad.set("mixed", .array([.int32(1), .string("two")]))
        let e = #expect(throws: GGUFError.self) { try bad.write(to: url) }
        #expect(e?.description.contains("metadata \"mixed\"[1]") == true)
        #expect(e?.description.contains("element 0 is int32, element 1 is string") == true)
        #expect(try GGUFFile(contentsOf: url).metadata["k"] == .string("v"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.gguf"])

        var t = GGUFWriter()
        let count = #expect(throws: GGUFError.self) { try t.addTensor(name: "w", shape: [2, 3], values: [1, 2, 3]) }
        #expect(count?.description.contains("shape [2, 3] holds 6 elements") == true)
        let quant = #expect(throws: GGUFError.self) { try t.addTensor(name: "w", shape: [32], values: [], type: .q4_0) }
        #expect(quant?.kind == .unsupportedTensorType)
        try t.addTensor(name: "w", shape: [1], values: [1])
        let dup = #expect(throws: GGUFError.self) { try t.addTensor(name: "w", shape: [1], values: [1]) }
        #expect(dup?.kind == .duplicate)
        let long = #expect(throws: GGUFError.self) {
            try t.addTensor(name: String(repeating: "n", count: 64), shape: [1], values: [1])
        }
        #expect(long?.description.contains("1…63 bytes") == true)
        let missingDir = dir.appendingPathComponent("no/such/dir/x.gguf")
        let io = #expect(throws: GGUFError.self) { try t.write(to: missingDir) }
        #expect(io?.kind == .writeFailed)
    }
}
