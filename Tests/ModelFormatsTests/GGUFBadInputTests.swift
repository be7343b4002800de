import Foundation
import Testing
import ModelFormats
import TestSupport

/// Truncated, corrupted and foreign files: each must give a `GGUFError` whose message names the file, the byte
/// offset and the field — never a crash, a hang or a huge allocation.
@Suite("GGUF bad input")
struct GGUFBadInputTests {
    /// A small valid file with known byte positions (see `layout`), with knobs to corrupt one field at a time.
    struct Spec {
        var magic = "GGUF"
        var version: UInt32 = 3
        var kvCount: UInt64 = 2
        var keyLength: UInt64? = nil          // overrides the first key's length prefix
        var firstValueType: UInt32 = 8        // string
        var tensorBType: UInt32 = 8           // q8_0
        var tensorBShape = [32]
        var tensorBOffset: UInt64 = 32
        var tensorBName = "b"

        /// Byte positions of the valid file:
        ///   0 magic · 4 version · 8 tensor_count · 16 metadata_kv_count
        ///   24 metadata[0] key length · 32 key "general.architecture" · 52 value type · 56 string length · 64 "llama"
        ///   69 metadata[1] key length · 77 key "llama.context_length" · 97 value type · 101 uint32 value
        ///   105 tensor_info[0] "a": 113 name · 114 n_dims · 118 dims[0] · 126 type · 130 offset
        ///   138 tensor_info[1] "b": 146 name · 147 n_dims · 151 dims[0] · 159 type · 163 offset · 171 end of infos
        ///   192 data: "a" f32[4] at 192…207, "b" q8_0[32] at 224…257; file size 258
        func build() -> Data {
            var b = GGUFTestBytes()
            b.bytes(Array(magic.utf8))
            b.u32(version)
            b.u64(2)
            b.u64(kvCount)
            let key = "general.architecture"
            b.u64(keyLength ?? UInt64(key.utf8.count)); b.bytes(Array(key.utf8))
            b.u32(firstValueType); b.str("llama")
            b.kvU32("llama.context_length", 2048)
            b.tensorInfo("a", shape: [4], type: 0, offset: 0)
            b.tensorInfo(tensorBName, shape: tensorBShape, type: tensorBType, offset: Int(tensorBOffset))
            b.pad(to: 32)
            for v: Float in [1, 2, 3, 4] { b.f32(v) }
            b.pad(to: 32)
            b.f16(0.5); b.bytes((0..<32).map { UInt8($0) })
            return b.data
        }
    }

    static func open(_ data: Data, name: String = "bad.gguf") throws -> (URL, Result<GGUFFile, GGUFError>) {
        let dir = try Fixtures.temporaryDirectory("gguf-bad")
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        do {
            return (url, .success(try GGUFFile(contentsOf: url)))
        } catch let e as GGUFError {
            return (url, .failure(e))
        }
    }

    /// Opens `data` expecting a `GGUFError` of `kind` whose description contains the file path and every fragment.
    static func expectFailure(_ data: Data, _ kind: GGUFError.Kind, offset: Int?, _ fragments: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (url, result) = try open(data)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        guard case .failure(let e) = result else {
            Issue.record("expected \(kind) but the file opened", sourceLocation: sourceLocation)
            return
        }
        #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
        #expect(e.offset == offset, "\(e)", sourceLocation: sourceLocation)
        #expect(e.file == url.path, sourceLocation: sourceLocation)
        let text = e.description
        #expect(text.hasPrefix("GGUF error in \(url.path)"), "\(text)", sourceLocation: sourceLocation)
        if let offset { #expect(text.contains("at byte offset \(offset),"), "\(text)", sourceLocation: sourceLocation) }
        for f in fragments { #expect(text.contains(f), "missing “\(f)” in: \(text)", sourceLocation: sourceLocation) }
    }

    @Test("the reference layout of the test file is right")
    func validSpec() throws {
        let data = Spec().build()
        #expect(data.count == 258)
        let (url, result) = try Self.open(data)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let f = try result.get()
        #expect(f.dataOffset == 192)
        #expect(f.metadata["general.architecture"] == .string("llama"))
        #expect(try f.dequantize("b") == (0..<32).map { 0.5 * Float($0) })
    }

    @Test("truncated files: inside the header, the metadata, the tensor infos and the data", arguments: [
        (0, GGUFError.Kind.truncated, 0, ["magic", "0 bytes long"]),
        (2, .truncated, 0, ["magic", "2 bytes long"]),
        (6, .truncated, 4, ["header version", "needs 4 bytes but the file ends at byte 6"]),
        (12, .truncated, 8, ["header tensor_count", "needs 8 bytes"]),
        (20, .truncated, 16, ["header metadata_kv_count", "needs 8 bytes"]),
        (40, .truncated, 16, ["header metadata_kv_count", "2 metadata pairs cannot fit in the 16 bytes"]),
        (66, .truncated, 56, ["metadata[0] \"general.architecture\" string", "string length 5 runs past the end"]),
        (99, .truncated, 97, ["metadata[1] \"llama.context_length\" value type", "needs 4 bytes"]),
        (103, .truncated, 101, ["metadata[1] \"llama.context_length\" uint32", "needs 4 bytes"]),
        (130, .truncated, 8, ["header tensor_count", "2 tensor infos cannot fit in the 25 bytes left"]),
        (161, .truncated, 159, ["tensor_info[1] \"b\" type", "needs 4 bytes but the file ends at byte 161"]),
        (170, .truncated, 163, ["tensor_info[1] \"b\" offset", "needs 8 bytes"]),
        (180, .dataOutOfBounds, 192, ["tensor \"a\" data", "16 bytes of f32 data", "past the end of the file (180 bytes)"]),
        (200, .dataOutOfBounds, 192, ["tensor \"a\" data", "past the end of the file (200 bytes)"]),
        (257, .dataOutOfBounds, 224, ["tensor \"b\" data", "34 bytes of q8_0 data at data offset 32 (file byte 224)"]),
    ] as [(Int, GGUFError.Kind, Int, [String])])
    func truncated(cut: Int, kind: GGUFError.Kind, offset: Int, fragments: [String]) throws {
        try Self.expectFailure(Spec().build().prefix(cut), kind, offset: offset, fragments)
    }

    @Test("every truncation point and every single-byte corruption of the header gives a GGUFError or a valid file")
    func exhaustive() throws {
        let data = Spec().build()
        for cut in 0..<data.count {
            let (url, result) = try Self.open(data.prefix(cut))
            try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
            guard case .failure = result else {
                Issue.record("a file cut at \(cut) bytes opened")
                continue
            }
        }
        var opened = 0
        for position in 0..<171 {
            for byte: UInt8 in [0x00, 0xFF, 0x80] where data[position] != byte {
                var corrupt = data
                corrupt[position] = byte
                let (url, result) = try Self.open(corrupt)
                try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
                if case .success(let f) = result {
                    opened += 1
                    for t in f.tensors where t.type.canDequantize { _ = try f.dequantize(t.name) }
                }
            }
        }
        // Some corruptions are harmless (e.g. inside the "llama" string or the context length value).
        #expect(opened > 0 && opened < 171 * 3)
    }

    @Test("bad magic and foreign files are not GGUF")
    func badMagic() throws {
        var s = Spec(); s.magic = "GGML"
        try Self.expectFailure(s.build(), .notGGUF, offset: 0, ["magic", "expected the bytes \"GGUF\"", "found 47 47 4d 4c"])
        try Self.expectFailure(Data("{\"this\": \"is JSON, not a model\"}".utf8), .notGGUF, offset: 0, ["found 7b 22 74 68"])
    }

    @Test("unsupported versions: v1, big-endian, future")
    func versions() throws {
        var s = Spec(); s.version = 1
        try Self.expectFailure(s.build(), .unsupportedVersion, offset: 4, ["GGUF version 1", "expected version 2 or 3"])
        s.version = 0x0300_0000
        try Self.expectFailure(s.build(), .unsupportedVersion, offset: 4, ["big-endian"])
        s.version = 4
        try Self.expectFailure(s.build(), .unsupportedVersion, offset: 4, ["found 4"])
    }

    @Test("absurd counts and lengths are rejected before allocating")
    func absurdCounts() throws {
        var s = Spec(); s.kvCount = 1 << 60
        try Self.expectFailure(s.build(), .truncated, offset: 16, ["1152921504606846976 metadata pairs cannot fit"])
        s = Spec(); s.keyLength = 1 << 62
        try Self.expectFailure(s.build(), .truncated, offset: 24, ["metadata[0] key", "string length 4611686018427387904"])
        s = Spec(); s.keyLength = .max
        try Self.expectFailure(s.build(), .invalidValue, offset: 24, ["metadata[0] key (string length)", "impossibly large"])
        // An array claiming 2^40 uint32 elements.
        var b = GGUFTestBytes()
        b.header(tensors: 0, kvs: 1)
        b.str("big"); b.u32(9); b.u32(4); b.u64(1 << 40); b.u32(1)
        try Self.expectFailure(b.data, .truncated, offset: 43,
                               ["metadata[0] \"big\" array length", "1099511627776 uint32 elements cannot fit in the 4 bytes"])
        // Dimensions whose product overflows.
        b = GGUFTestBytes()
        b.header(tensors: 1, kvs: 0)
        b.tensorInfo("t", shape: [1 << 40, 1 << 40], type: 0, offset: 0)
        try Self.expectFailure(b.data, .invalidValue, offset: 45, ["tensor_info[0] \"t\" dims[1]", "impossibly large"])
    }

    @Test("unknown value types, bad bools, deep nesting and duplicate keys")
    func badValues() throws {
        var s = Spec(); s.firstValueType = 99
        try Self.expectFailure(s.build(), .unknownValueType, offset: 52,
                               ["metadata[0] \"general.architecture\" value type", "found 99"])
        var b = GGUFTestBytes()
        b.header(tensors: 0, kvs: 1)
        b.str("arr"); b.u32(9); b.u32(13); b.u64(1)
        try Self.expectFailure(b.data, .unknownValueType, offset: 39, ["metadata[0] \"arr\" array element type", "found 13"])
        b = GGUFTestBytes()
        b.header(tensors: 0, kvs: 1)
        b.str("flag"); b.u32(7); b.u8(2)
        try Self.expectFailure(b.data, .invalidValue, offset: 40, ["metadata[0] \"flag\" bool", "expected 0 or 1, found 2"])
        b = GGUFTestBytes()
        b.header(tensors: 0, kvs: 1)
        b.str("deep"); b.u32(9)
        for _ in 0..<40 { b.u32(9); b.u64(1) }
        b.u32(0); b.u64(0)
        // Level d's element type sits at 40 + 12·d; the one declaring a 17th level (d = 15) is reported.
        try Self.expectFailure(b.data, .invalidValue, offset: 40 + 12 * 15, ["nested more than 16 deep"])
        b = GGUFTestBytes()
        b.header(tensors: 0, kvs: 2)
        b.kvU32("k", 1); b.kvU32("k", 2)
        try Self.expectFailure(b.data, .duplicate, offset: 41, ["metadata[1] \"k\"", "more than once"])
        b = GGUFTestBytes()
        b.header(tensors: 0, kvs: 1)
        b.kvU32("general.alignment", 48)
        try Self.expectFailure(b.data, .invalidValue, offset: 53, ["general.alignment", "power-of-two", "found 48"])
    }

    @Test("bad tensor infos: unknown type id, misaligned offset, partial blocks, too many dims, duplicate names")
    func badTensorInfos() throws {
        var s = Spec(); s.tensorBType = 4   // retired Q4_2
        try Self.expectFailure(s.build(), .unknownTensorType, offset: 159,
                               ["tensor_info[1] \"b\" type", "unknown ggml type id 4"])
        s.tensorBType = 1000
        try Self.expectFailure(s.build(), .unknownTensorType, offset: 159, ["unknown ggml type id 1000"])
        s = Spec(); s.tensorBOffset = 40
        try Self.expectFailure(s.build(), .misaligned, offset: 163,
                               ["tensor_info[1] \"b\" offset", "data offset 40 is not a multiple of the alignment 32"])
        s = Spec(); s.tensorBShape = [30]
        try Self.expectFailure(s.build(), .invalidValue, offset: 147,
                               ["tensor_info[1] \"b\" dims[0]", "30 is not a multiple of the q8_0 block size 32"])
        s = Spec(); s.tensorBName = "a"
        try Self.expectFailure(s.build(), .duplicate, offset: 138, ["tensor_info[1] \"a\"", "more than once"])
        var b = GGUFTestBytes()
        b.header(tensors: 1, kvs: 0)
        b.tensorInfo("t", shape: [1, 1, 1, 1, 1], type: 0, offset: 0)
        try Self.expectFailure(b.data, .invalidValue, offset: 33, ["tensor_info[0] \"t\" n_dims", "at most 4", "found 5"])
    }

    @Test("a known type without a kernel loads, and only dequantizing it fails, naming the tensor")
    func unsupportedTypeLoads() throws {
        var b = GGUFTestBytes()
        b.header(tensors: 1, kvs: 0)
        b.tensorInfo("blk.0.iq", shape: [256, 2], type: 16, offset: 0)   // iq2_xxs: 66 bytes per 256
        b.pad(to: 32)
        b.bytes([UInt8](repeating: 1, count: 132))
        let (url, result) = try Self.open(b.data)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let f = try result.get()
        let t = try #require(f.tensor(named: "blk.0.iq"))
        #expect(t.type == .iq2_xxs && t.byteCount == 132 && f.bytes(of: t).count == 132)
        let e = #expect(throws: GGUFError.self) { try f.dequantize("blk.0.iq") }
        #expect(e?.kind == .unsupportedTensorType)
        #expect(e?.description.contains("unsupported type 16 (iq2_xxs) for tensor blk.0.iq") == true)
        let missing = #expect(throws: GGUFError.self) { try f.dequantize("nope") }
        #expect(missing?.kind == .missingTensor)
        #expect(missing?.description.contains("tensor \"nope\": no tensor with this name") == true)
        // A tensor info that does not describe this file's data, and a destination of the wrong size.
        var small = [Float](repeating: 0, count: 10)
        let foreign = GGUFTensorInfo(name: "x", shape: [10], type: .f32, offset: 4096)
        let outside = #expect(throws: GGUFError.self) {
            try small.withUnsafeMutableBufferPointer { try f.dequantize(foreign, into: $0) }
        }
        #expect(outside?.kind == .dataOutOfBounds)
        let wrongSize = #expect(throws: GGUFError.self) {
            try small.withUnsafeMutableBufferPointer { try f.dequantize(GGUFTensorInfo(name: "y", shape: [12], type: .f32, offset: 0), into: $0) }
        }
        #expect(wrongSize?.description.contains("destination holds 10 floats, the tensor has 12") == true)
    }

    @Test("missing file, directory")
    func notAFile() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/model.gguf")
        let e = #expect(throws: GGUFError.self) { try GGUFFile(contentsOf: missing) }
        #expect(e?.kind == .cannotOpen)
        #expect(e?.description == "GGUF error in /nonexistent/model.gguf, file: no such file")
        let dir = try Fixtures.temporaryDirectory("gguf-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = #expect(throws: GGUFError.self) { try GGUFFile(contentsOf: dir) }
        #expect(d?.description.contains("not a regular file") == true)
    }
}
