import Foundation
import Testing
import ModelFormats
import TestSupport

@Suite("GGUF reader")
struct GGUFReaderTests {
    @Test("reads every metadata value type, nested arrays, alignment and tensor data from a hand-built file")
    func handBuilt() throws {
        let tmp = try GGUFTempFile()
        defer { tmp.cleanUp() }
        var b = GGUFTestBytes()
        b.header(version: 3, tensors: 2, kvs: 15)
        b.str("u8"); b.u32(0); b.u8(200)
        b.str("i8"); b.u32(1); b.u8(0xFE)                       // -2
        b.str("u16"); b.u32(2); b.u16(60000)
        b.str("i16"); b.u32(3); b.u16(UInt16(bitPattern: -300))
        b.str("u32"); b.u32(4); b.u32(4_000_000_000)
        b.str("i32"); b.u32(5); b.u32(UInt32(bitPattern: -70000))
        b.str("f32"); b.u32(6); b.f32(1.5)
        b.str("bool"); b.u32(7); b.u8(1)
        b.str("str"); b.u32(8); b.str("héllo ✓")
        b.str("u64"); b.u32(10); b.u64(1 << 40)
        b.str("i64"); b.u32(11); b.u64(UInt64(bitPattern: -(1 << 40)))
        b.str("f64"); b.u32(12); b.u64((0.1 as Double).bitPattern)
        b.str("strings"); b.u32(9); b.u32(8); b.u64(2); b.str("a"); b.str("")
        // [[1, 2], [3]] as arrays of int32 inside an array of arrays
        b.str("nested"); b.u32(9); b.u32(9); b.u64(2)
        b.u32(5); b.u64(2); b.u32(1); b.u32(2)
        b.u32(5); b.u64(1); b.u32(3)
        b.str("general.alignment"); b.u32(4); b.u32(64)
        b.tensorInfo("w", shape: [3, 2], type: 0, offset: 0)
        b.tensorInfo("h", shape: [4], type: 1, offset: 64)
        let headerEnd = b.data.count
        b.pad(to: 64)
        let dataStart = b.data.count
        for v: Float in [1, 2, 3, 4, 5, 6] { b.f32(v) }
        b.pad(to: 64)
        for v: Float in [0.5, -2, 65504, 0] { b.f16(v) }
        try b.write(to: tmp.url)

        let f = try GGUFFile(contentsOf: tmp.url)
        #expect(f.version == 3)
        #expect(f.alignment == 64)
        #expect(f.dataOffset == dataStart)
        #expect(dataStart > headerEnd && dataStart % 64 == 0)
        #expect(f.metadataKeys == ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "u64", "i64", "f64",
                                   "strings", "nested", "general.alignment"])
        #expect(f.metadata["u8"] == .uint8(200))
        #expect(f.metadata["i8"] == .int8(-2))
        #expect(f.metadata["u16"] == .uint16(60000))
        #expect(f.metadata["i16"] == .int16(-300))
        #expect(f.metadata["u32"] == .uint32(4_000_000_000))
        #expect(f.metadata["i32"] == .int32(-70000))
        #expect(f.metadata["f32"] == .float32(1.5))
        #expect(f.metadata["bool"] == .bool(true))
        #expect(f.metadata["str"] == .string("héllo ✓"))
        #expect(f.metadata["u64"] == .uint64(1 << 40))
        #expect(f.metadata["i64"] == .int64(-(1 << 40)))
        #expect(f.metadata["f64"] == .float64(0.1))
        #expect(f.metadata["strings"]?.strings == ["a", ""])
        #expect(f.metadata["nested"] == .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
        // Accessors.
        #expect(f.metadata["i16"]?.int == -300)
        #expect(f.metadata["u32"]?.double == 4_000_000_000)
        #expect(f.metadata["f32"]?.int == nil)
        #expect(f.metadata["nested"]?.array?.first?.ints == [1, 2])
        #expect(f.metadata["strings"]?.ints == nil)

        #expect(f.tensors.map(\.name) == ["w", "h"])
        let w = try #require(f.tensor(named: "w"))
        #expect(w.shape == [3, 2] && w.type == .f32 && w.elementCount == 6 && w.byteCount == 24)
        #expect(try f.dequantize("w") == [1, 2, 3, 4, 5, 6])
        let h = try #require(f.tensor(named: "h"))
        #expect(h.type == .f16 && h.offset == 64 && h.byteCount == 8)
        #expect(f.bytes(of: h).count == 8)
        #expect(try f.dequantize("h") == [0.5, -2, 65504, 0])
        #expect(f.tensor(named: "nope") == nil)
    }

    @Test("a file without general.alignment aligns data to 32 bytes; version 2 is accepted")
    func defaultAlignmentV2() throws {
        let tmp = try GGUFTempFile()
        defer { tmp.cleanUp() }
        var b = GGUFTestBytes()
        b.header(version: 2, tensors: 1, kvs: 1)
        b.kvString("general.architecture", "llama")
        b.tensorInfo("x", shape: [2], type: 0, offset: 0)
        let headerEnd = b.data.count
        b.pad(to: 32)
        b.f32(-1); b.f32(7)
        try b.write(to: tmp.url)
        let f = try GGUFFile(contentsOf: tmp.url)
        #expect(f.version == 2)
        #expect(f.alignment == 32)
        #expect(f.dataOffset == (headerEnd + 31) / 32 * 32)
        #expect(try f.dequantize("x") == [-1, 7])
    }

    @Test("opens the default model: header, metadata and tensor directory",
          .enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func defaultModel() throws {
        let f = try GGUFFile(contentsOf: Fixtures.defaultModel)
        #expect(f.version == 3)
        #expect(f.alignment == 32)
        #expect(f.metadata["general.architecture"]?.string == "llama")
        #expect(f.metadata["llama.embedding_length"]?.int == 576)
        #expect(f.metadata["llama.block_count"]?.int == 30)
        #expect(f.metadata["llama.feed_forward_length"]?.int == 1536)
        #expect(f.metadata["llama.attention.head_count"]?.int == 9)
        #expect(f.metadata["llama.attention.head_count_kv"]?.int == 3)
        #expect(f.metadata["tokenizer.ggml.tokens"]?.strings?.count == 49152)
        #expect(f.metadata["tokenizer.ggml.bos_token_id"]?.int == 1)
        #expect(f.metadata["tokenizer.ggml.eos_token_id"]?.int == 2)
        #expect(f.metadataKeys.count == f.metadata.count)
        // The reference README: 272 tensors = 210 Q4_1, 1 Q8_0 (token_embd.weight), 61 F32.
        #expect(f.tensors.count == 272)
        #expect(f.tensors.filter { $0.type == .q4_1 }.count == 210)
        #expect(f.tensors.filter { $0.type == .f32 }.count == 61)
        let embd = try #require(f.tensor(named: "token_embd.weight"))
        #expect(embd.type == .q8_0)
        #expect(embd.shape == [576, 49152])
        let q = try #require(f.tensor(named: "blk.0.attn_q.weight"))
        #expect(q.shape == [576, 576] && q.type == .q4_1)
        #expect(f.tensor(named: "blk.0.ffn_down.weight")?.shape == [1536, 576])
        // Data section fits the file exactly up to padding.
        let end = f.tensors.map { f.dataOffset + $0.offset + $0.byteCount }.max() ?? 0
        #expect(end <= f.fileSize && f.fileSize - end < f.alignment)
    }
}
