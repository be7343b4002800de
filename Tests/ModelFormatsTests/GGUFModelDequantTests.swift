import Foundation
import Testing
import ModelFormats
import TestSupport

/// Dequantization of the real default model, checked against the format definition block by block and against the
/// token embeddings an independent implementation (HF transformers) reports.
@Suite("GGUF dequantization of the default model", .enabled(if: Fixtures.hasModel, Fixtures.noModel))
struct GGUFModelDequantTests {
    /// Decodes block `b` of a q4_1 / q8_0 tensor straight from the file bytes, by the format definition.
    static func referenceBlock(_ file: GGUFFile, _ t: GGUFTensorInfo, block b: Int) -> [Float] {
        let raw = file.bytes(of: t)
        let base = b * t.type.bytesPerBlock
        func half(_ o: Int) -> Float { Float(Float16(bitPattern: UInt16(raw[base + o]) | UInt16(raw[base + o + 1]) << 8)) }
        switch t.type {
        case .q4_1:
            return (0..<32).map { j in
                let byte = raw[base + 4 + j % 16]
                return half(0) * Float(j < 16 ? byte & 15 : byte >> 4) + half(2)
            }
        case .q8_0:
            return (0..<32).map { j in half(0) * Float(Int8(bitPattern: raw[base + 2 + j])) }
        default:
            return []
        }
    }

    @Test("every tensor dequantizes to finite values that match its blocks decoded by definition")
    func everyTensor() throws {
        let file = try GGUFFile(contentsOf: Fixtures.defaultModel)
        var total = 0
        for t in file.tensors {
            let values = try file.dequantize(t.name)
            total += values.count
            #expect(values.count == t.elementCount, "\(t.name)")
            #expect(values.allSatisfy { $0.isFinite }, "\(t.name) has non-finite values")
            #expect(values.contains { $0 != 0 }, "\(t.name) is all zeros")
            switch t.type {
            case .q4_1, .q8_0:
                let blocks = t.elementCount / 32
                for b in [0, blocks / 2, blocks - 1] {
                    #expect(Array(values[(32 * b)..<(32 * b + 32)]) == Self.referenceBlock(file, t, block: b),
                            "\(t.name) block \(b)")
                }
            case .f32:
                let raw = file.bytes(of: t)
                let direct = (0..<t.elementCount).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
                #expect(values == direct, "\(t.name)")
                // The f32 tensors are RMSNorm gains: one per hidden feature, on average positive.
                #expect(t.shape == [576], "\(t.name)")
                #expect(values.reduce(0, +) > 0, "\(t.name) has a non-positive mean gain")
            default:
                Issue.record("unexpected type \(t.type) for \(t.name)")
            }
        }
        // 134.5M parameters (the tied output shares token_embd).
        #expect(total > 134_000_000 && total < 135_000_000, "total \(total)")
    }

    @Test("token_embd.weight rows equal HF's hidden_states[0] of each prompt's last token",
          .enabled(if: Fixtures.hasShared, Fixtures.noShared))
    func embeddingRowsMatchReference() throws {
        let file = try GGUFFile(contentsOf: Fixtures.defaultModel)
        let embd = try #require(file.tensor(named: "token_embd.weight"))
        let width = embd.shape[0]
        let data = try Data(contentsOf: Fixtures.reference.appendingPathComponent("prompts.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let prompts = try #require(json["prompts"] as? [[String: Any]])
        #expect(prompts.count >= 5)
        let all = try file.dequantize("token_embd.weight")
        for p in prompts {
            let name = p["name"] as? String ?? "?"
            let ids = try #require(p["token_ids"] as? [Int])
            let hidden = try #require(p["hidden_last_position"] as? [String: Any])
            let reference = try #require((hidden["0"] as? [NSNumber])?.map { $0.floatValue })
            let token = try #require(ids.last)
            #expect(reference.count == width)
            var row = [Float](repeating: .nan, count: width)
            try row.withUnsafeMutableBufferPointer { try file.dequantizeRows(embd, token..<(token + 1), into: $0) }
            #expect(row == Array(all[(token * width)..<((token + 1) * width)]), "\(name): row vs whole tensor")
            // The reference JSON rounds to 5 decimals, so agreement is to half a unit in the last place (5e-6);
            // the dequantized weights themselves are exact (README: max |difference| = 0).
            let worst = zip(row, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 5.0e-6 + 1e-7, "\(name): token \(token) max |diff| \(worst)")
        }
    }
}
