import Engine
import Foundation
import ModelFormats
import TestSupport

/// One parity case of a reference directory's `prompts.json` (Hugging Face transformers, fp32):
/// `../shared/reference/smollm2-135m-q4_1/` or `../shared/reference/qwen2.5-coder-0.5b-instruct/`.
struct ReferenceCase: Sendable {
    var name: String
    var tokenIDs: [Int]
    var lastLogits: [Float]
    var top20: [Int]
    /// HF `hidden_states[L]` at the last position, by L.
    var hidden: [Int: [Float]]
    var greedy: [Int]?
    var steer: (layer: Int, multiplier: Float, vector: [Float])?
    /// HF `hidden_states[layer]` at every position, `[tokens × d]`.
    var hiddenAll: (layer: Int, values: [Float])?
    /// The rendered prompt text.
    var text: String

    /// The SmolLM2 cases.
    static let all: [ReferenceCase] = (try? load(Fixtures.reference)) ?? []

    static func named(_ name: String) -> ReferenceCase? { all.first { $0.name == name } }

    static func load(_ dir: URL) throws -> [ReferenceCase] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("prompts.json")))
        guard let root = json as? [String: Any], let prompts = root["prompts"] as? [[String: Any]] else { return [] }
        return try prompts.map { p in
            let logitsFile = (p["last_logits"] as! [String: Any])["file"] as! String
            var hidden = [Int: [Float]]()
            for (k, v) in p["hidden_last_position"] as! [String: Any] {
                hidden[Int(k)!] = (v as! [NSNumber]).map { $0.floatValue }
            }
            var steer: (Int, Float, [Float])?
            if let s = p["steer"] as? [String: Any] {
                steer = ((s["layer"] as! NSNumber).intValue, (s["multiplier"] as! NSNumber).floatValue,
                         (s["vector"] as! [NSNumber]).map { $0.floatValue })
            }
            var all: (Int, [Float])?
            if let h = p["hidden_all_positions"] as? [String: Any] {
                all = ((h["layer"] as! NSNumber).intValue, try Fixtures.readF32(dir.appendingPathComponent(h["file"] as! String)))
            }
            return ReferenceCase(
                name: p["name"] as! String, tokenIDs: (p["token_ids"] as! [NSNumber]).map { $0.intValue },
                lastLogits: try Fixtures.readF32(dir.appendingPathComponent(logitsFile)),
                top20: (p["top20"] as! [[NSNumber]]).map { $0[0].intValue }, hidden: hidden,
                greedy: (p["greedy_continuation_ids"] as? [NSNumber])?.map { $0.intValue }, steer: steer,
                hiddenAll: all, text: p["text"] as! String)
        }
    }
}

/// The default model, loaded once for the whole test process.
enum SharedModel {
    static let model: LlamaModel? = {
        guard Fixtures.hasModel, let file = try? GGUFFile(contentsOf: Fixtures.defaultModel) else { return nil }
        return try? LlamaModel(gguf: file)
    }()
}

/// Comparisons used by the parity tests.
enum Compare {
    static func maxAbs<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// ‖a − b‖ / ‖b‖.
    static func relativeL2<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Double {
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) {
            num += Double(x - y) * Double(x - y)
            den += Double(y) * Double(y)
        }
        return (num / max(den, 1e-30)).squareRoot()
    }

    /// Indices of the `k` largest values, largest first.
    static func topK(_ x: some Collection<Float>, _ k: Int) -> [Int] {
        Array(x.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            .prefix(k).map(\.offset))
    }
}
