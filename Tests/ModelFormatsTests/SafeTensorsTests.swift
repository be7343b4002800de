import Foundation
import Testing
import ModelFormats
import TestSupport

@Suite("safetensors")
struct SafeTensorsTests {
    /// A safetensors file assembled by hand: length prefix, the given JSON header text, then `data`.
    static func handMade(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> Data {
        var out = Data()
        let json = Array(header.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        out.append(contentsOf: data)
        return out
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    @Test("reads a hand-made file: metadata, F32/F16/BF16/I32 entries, scalar shape, padding spaces")
    func handMadeFile() throws {
        let dir = try Fixtures.temporaryDirectory("safetensors")
        defer { try? FileManager.default.removeItem(at: dir) }
        // a: F32 [2, 2] = 1, 2, 3, 4 (bytes 0..<16); b: F16 [3] = 1, -2, 0.5 (16..<22);
        // c: BF16 [] = 3.140625 (22..<24); d: I32 [1] = 7 (24..<28).
        var data: [UInt8] = []
        for v: Float in [1, 2, 3, 4] { data += Self.le(v.bitPattern) }
        for bits: UInt16 in [0x3C00, 0xC000, 0x3800] { data += Self.le(bits) }
        data += Self.le(UInt16(0x4049))
        data += Self.le(Int32(7))
        let header = """
            {"__metadata__":{"format":"pt","note":"hand made"},\
            "a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},\
            "b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},\
            "c":{"dtype":"BF16","shape":[],"data_offsets":[22,24]},\
            "d":{"dtype":"I32","shape":[1],"data_offsets":[24,28]}}    
            """
        let url = dir.appendingPathComponent("m.safetensors")
        try Self.handMade(header: header, data: data).write(to: url)
        let f = try SafeTensorsFile(contentsOf: url)
        #expect(f.metadata == ["format": "pt", "note": "hand made"])
        #expect(f.tensorNames == ["a", "b", "c", "d"])
        #expect(f.dataOffset == 8 + header.utf8.count)
        #expect(f.tensors["a"] == SafeTensorInfo(name: "a", dtype: .f32, shape: [2, 2], dataOffsets: 0..<16))
        #expect(try f.floats(named: "a") == [1, 2, 3, 4])
        #expect(try f.floats(named: "b") == [1, -2, 0.5])
        #expect(f.tensors["c"]?.shape == [] && f.tensors["c"]?.elementCount == 1)
        #expect(try f.floats(named: "c") == [3.140625])
        #expect(f.bytes(of: try #require(f.tensors["d"])).load(as: Int32.self) == 7)
        let e = #expect(throws: SafeTensorsError.self) { try f.floats(named: "d") }
        #expect(e?.kind == .unsupportedDType)
        #expect(e?.description.contains("cannot convert dtype I32") == true)
        let missing = #expect(throws: SafeTensorsError.self) { try f.floats(named: "zz") }
        #expect(missing?.description.contains("tensor \"zz\"") == true)
    }

    @Test("writer round trip: F32 exact, F16/BF16 rounded, metadata, 8-byte header padding, atomic")
    func roundTrip() throws {
        let dir = try Fixtures.temporaryDirectory("safetensors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        let a: [Float] = (0..<6).map { Float($0) / 7 - 0.3 }
        let b: [Float] = [0.1, -65504, 2.5e-3]
        let c: [Float] = [1.00390625, 1.01171875, -0.0]
        try SafeTensorsWriter.write(tensors: [("model.a", [2, 3], a, .f32), ("b", [3, 1], b, .f16), ("c.x", [3], c, .bf16),
                                              ("empty", [0, 4], [], .f32)],
                                    metadata: ["format": "pt", "source": "ünïcode"], to: url)
        let raw = try Data(contentsOf: url)
        let headerLength = raw.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        let f = try SafeTensorsFile(contentsOf: url)
        #expect(f.metadata == ["format": "pt", "source": "ünïcode"])
        #expect(f.tensorNames == ["model.a", "b", "c.x", "empty"])
        #expect(f.tensors["model.a"]?.shape == [2, 3])
        #expect(try f.floats(named: "model.a") == a)
        #expect(try f.floats(named: "b") == b.map { Float(Float16($0)) })
        // bf16 round to nearest even: 1 + 2^-8 is a tie → 1; 1 + 3·2^-8 is a tie → 1 + 2^-6 (even); -0 stays -0.
        let cc = try f.floats(named: "c.x")
        #expect(cc == [1, 1.015625, 0] && cc[2].sign == .minus)
        #expect(try f.floats(named: "empty").isEmpty)
        #expect(raw.count == 8 + Int(headerLength) + 24 + 6 + 6)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])

        let bad = #expect(throws: SafeTensorsError.self) {
            try SafeTensorsWriter.write(tensors: [("w", [2, 2], [1, 2, 3], .f32)], to: url)
        }
        #expect(bad?.description.contains("shape [2, 2] does not hold the 3 values") == true)
        #expect(try SafeTensorsFile(contentsOf: url).tensorNames.count == 4)   // the old file is untouched
    }

    @Test("GGUF weights re-written as a Hugging Face safetensors file read back identically",
          .enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func fromGGUF() throws {
        let gguf = try GGUFFile(contentsOf: Fixtures.defaultModel)
        let dir = try Fixtures.temporaryDirectory("safetensors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        let names = ["blk.0.ffn_down.weight", "output_norm.weight"]
        var tensors: [SafeTensorsWriter.Tensor] = []
        for n in names {
            let t = try #require(gguf.tensor(named: n))
            tensors.append((n, t.rowMajorShape, try gguf.dequantize(n), .f32))
        }
        try SafeTensorsWriter.write(tensors: tensors, to: url)
        let f = try SafeTensorsFile(contentsOf: url)
        #expect(f.tensors["blk.0.ffn_down.weight"]?.shape == [576, 1536])   // HF [out, in]
        for n in names { #expect(try f.floats(named: n) == gguf.dequantize(n), "\(n)") }
    }

    @Test("corrupt files give errors naming the file, offset and header path", arguments: [
        ("short", "", 3, "too short for the 8-byte header length"),
        ("huge length", "{}", 1 << 40, "expected 2…100000000 bytes of JSON"),
        ("length past end", "{}", 100, "the header length says 100 bytes but only 2 follow"),
        ("not json", "{oops", nil, "does not parse"),
        ("array", "[1]", nil, "expected a JSON object starting with '{'"),
        ("unknown dtype", #"{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}"#, nil, "header[\"w\"].dtype: unknown dtype \"Q4\""),
        ("size mismatch", #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, nil, "[0, 4] spans 4 bytes but shape [2] of F32 needs 8"),
        ("past end", #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, nil, "runs past the end of the file (the data section has 8 bytes)"),
        ("overlap", #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"v":{"dtype":"F16","shape":[2],"data_offsets":[2,6]}}"#, nil, "header[\"v\"].data_offsets: overlaps the data of \"w\""),
        ("negative shape", #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, nil, "header[\"w\"].shape[0]: expected a non-negative integer"),
        ("bad offsets", #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, nil, "expected [begin, end] with 0 ≤ begin ≤ end"),
        ("bad metadata", #"{"__metadata__":{"k":1}}"#, nil, "header[\"__metadata__\"][\"k\"]: expected a string"),
    ] as [(String, String, UInt64?, String)])
    func corrupt(label: String, header: String, declared: UInt64?, message: String) throws {
        let dir = try Fixtures.temporaryDirectory("safetensors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("\(label.replacingOccurrences(of: " ", with: "_")).safetensors")
        var data = Self.handMade(header: header, data: [UInt8](repeating: 0, count: 8), declaredLength: declared)
        if label == "short" { data = Data([1, 2, 3]) }
        if label == "length past end" { data = data.prefix(8 + 2) }
        try data.write(to: url)
        let e = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: url) }
        let text = e?.description ?? ""
        #expect(text.contains(url.path), "\(text)")
        #expect(text.contains(message), "\(label): \(text)")
    }

    @Test("a missing file is reported by path")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/x.safetensors")
        let e = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: url) }
        #expect(e?.kind == .cannotOpen)
        #expect(e?.description == "safetensors error in /nonexistent/dir/x.safetensors, file: no such file")
    }
}
