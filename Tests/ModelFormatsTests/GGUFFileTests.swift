import Foundation
import ModelFormats
import Testing
import TestSupport

/// GGUF reading and writing: round trips, every metadata type, and clear errors on bad files.
struct GGUFFileTests {
    static func sampleWriter() -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("test.u8", .uint8(200)); w.set("test.i8", .int8(-5)); w.set("test.u16", .uint16(60000))
        w.set("test.i16", .int16(-30000)); w.set("test.u32", .uint32(4_000_000_000)); w.set("test.i32", .int32(-7))
        w.set("test.f32", .float32(1.5)); w.set("test.bool", .bool(true)); w.set("test.u64", .uint64(1 << 40))
        w.set("test.i64", .int64(-(1 << 40))); w.set("test.f64", .float64(-2.25)); w.set("test.str", .string("héllo ✓"))
        w.set("test.arr", .array([.string("a"), .string("bc")]))
        w.set("test.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
        w.add(.init(name: "a.weight", shape: [3, 2], values: [1, 2, 3, 4, 5, 6]))
        w.add(.init(name: "b.weight", shape: [5], type: .f16, values: [0.5, -1, 2, 65504, 0.099975586]))
        return w
    }

    func write(_ data: Data) throws -> URL {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("m.gguf")
        try data.write(to: url)
        return url
    }

    @Test func roundTripsEveryMetadataTypeAndTensor() throws {
        let w = Self.sampleWriter()
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("m.gguf")
        try w.write(to: url)
        let f = try GGUFFile(contentsOf: url)
        #expect(f.version == 3)
        #expect(f.metadataKeys == w.metadata.map(\.key))
        for (k, v) in w.metadata { #expect(f.metadata[k] == v, "\(k)") }
        #expect(try f.dequantize("a.weight") == [1, 2, 3, 4, 5, 6])
        #expect(f.tensor(named: "a.weight")?.shape == [3, 2])
        #expect(try f.dequantize("b.weight") == [0.5, -1, 2, 65504, 0.099975586])
        #expect(f.tensors.allSatisfy { $0.offset % f.alignment == 0 })
        #expect(f.metadata["test.nested"]?.array?.first?.ints == [1, 2])
    }

    @Test func truncatedFilesNameTheOffsetAndField() throws {
        let full = try Self.sampleWriter().encoded()
        let f = try GGUFFile(contentsOf: try write(full))
        let cuts: [(Int, String)] = [
            (6, "version"), (20, "metadata_kv_count"), (40, "metadata"), (f.dataOffset - 10, "tensors["),
            (f.dataOffset + 8, "data"),
        ]
        for (cut, field) in cuts {
            let url = try write(full.prefix(cut))
            let error = try #require(throws: GGUFError.self) { try GGUFFile(contentsOf: url) }
            #expect(error.description.contains(field), "cut at \(cut): \(error)")
            #expect(error.description.contains("byte"), "cut at \(cut): \(error)")
        }
    }

    @Test func badMagicMissingFileAndAbsurdCounts() throws {
        let notGGUF = try write(Data("hello, this is not a model file".utf8))
        let e1 = try #require(throws: GGUFError.self) { try GGUFFile(contentsOf: notGGUF) }
        #expect(e1.description.contains("not a GGUF file") && e1.description.contains("\"hell\""))
        let missing = URL(fileURLWithPath: "/nonexistent/dir/model.gguf")
        let e2 = try #require(throws: GGUFError.self) { try GGUFFile(contentsOf: missing) }
        #expect(e2.description.contains("/nonexistent/dir/model.gguf") && e2.description.contains("no such file"))
        var bytes = [UInt8](try Self.sampleWriter().encoded())
        for i in 8..<16 { bytes[i] = 0xFF }  // tensor_count = 2^64 - 1
        let e3 = try #require(throws: GGUFError.self) { try GGUFFile(contentsOf: try write(Data(bytes))) }
        #expect(e3.description.contains("tensor_count") && e3.description.contains("byte 8"))
    }

    @Test func unknownAndUnsupportedTensorTypesFailOnlyWhenConverted() throws {
        var w = GGUFWriter()
        w.add(.init(name: "t", shape: [256], values: [Float](repeating: 1, count: 256)))
        var bytes = [UInt8](try w.encoded())
        // The type id follows name (8 + 1 bytes), n_dims (4) and one dimension (8) in the tensor info.
        let typeAt = 4 + 4 + 8 + 8 + 8 + 1 + 4 + 8
        #expect(bytes[typeAt] == 0)
        for (id, expected) in [(99, "unknown type 99"), (10, "unsupported type 10 (Q2_K)")] {
            bytes[typeAt] = UInt8(id)
            let f = try GGUFFile(contentsOf: try write(Data(bytes)))
            #expect(f.tensors[0].typeID == UInt32(id))
            let error = try #require(throws: GGUFError.self) { try f.dequantize("t") }
            #expect(error.description.contains(expected) && error.description.contains("tensors[t]"), "\(error)")
        }
    }

    @Test(.enabled(if: Fixtures.hasModel && Fixtures.hasShared, Fixtures.noModel))
    func realModelDequantizesAndMatchesTheReferenceEmbeddings() throws {
        let f = try GGUFFile(contentsOf: Fixtures.defaultModel)
        #expect(f.tensors.count == 272)
        #expect(f.metadata["llama.block_count"]?.int == 30)
        #expect(f.metadata["tokenizer.ggml.tokens"]?.array?.count == 49152)
        for t in f.tensors where t.name.hasSuffix("norm.weight") || t.name == "blk.3.ffn_down.weight" {
            #expect(try f.dequantize(t.name).allSatisfy(\.isFinite), "\(t.name)")
        }
        // hidden_states[0] at the last position is the embedding row of the last token.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.reference.appendingPathComponent("prompts.json"))) as! [String: Any]
        let embedding = try f.dequantize("token_embd.weight")
        for p in json["prompts"] as! [[String: Any]] {
            let ids = (p["token_ids"] as! [NSNumber]).map(\.intValue)
            let expected = ((p["hidden_last_position"] as! [String: Any])["0"] as! [NSNumber]).map(\.floatValue)
            let row = embedding[ids.last! * 576..<(ids.last! + 1) * 576]
            #expect(zip(row, expected).allSatisfy { abs($0 - $1) <= 6e-6 }, "\(p["name"]!)")
        }
    }
}
