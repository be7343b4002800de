import Foundation
import ModelFormats
import Pipeline
import Testing
import TestSupport

/// Property of the cache (issue 22): after any edit — a parameter (in any of its equivalent spellings), the
/// dataset's bytes (with its size changed, or with size and modification time kept), the dataset only touched, the
/// model file's bytes, or a return to an earlier state — exactly the stages whose result depends on the edit
/// recompute, and nothing else. The expectation comes from an oracle that knows only what each stage reads (its
/// parameters' meaning, the dataset's text, the model's bytes, its inputs), never the cache keys.
@Suite("Cache property", .serialized)
struct CachePropertyTests {
    /// Spellings of sweep multipliers, each with its meaning: equal meanings must share a key.
    static let multipliers: [(text: String, meaning: String)] = [
        ("[-2, 1, 3]", "-2,1,3"), ("[-2.0, 1, 3e0]", "-2,1,3"), ("[1, 2]", "1,2"), ("{\"range\": [1, 2, 1]}", "1,2"),
        ("{\"range\": [1, 2.5, 1]}", "1,2"), ("[3]", "3"), ("3", "3"),
    ]
    static let sweepLayers: [(text: String, meaning: String)] = [("[0, 1, 2]", "0,1,2"), ("{\"range\": [0, 2]}", "0,1,2"), ("[1]", "1")]
    static let pplTokens: [(text: String, meaning: String)] = [("", "all"), (", \"max_tokens\": 2", "2"), (", \"max_tokens\": 3", "3")]

    /// What the experiment is made of at one moment.
    struct State: Equatable {
        var multipliers = 0, sweepLayers = 0, pplTokens = 0
        var data = "1\n2\n3\n4\n"
        var modelName = "model-00"

        var manifest: String {
            """
            {"name": "property", "model": "model.gguf", "datasets": {"nums": "nums.txt"},
             "stages": [
               {"id": "acts", "kind": "collect_activations", "params": {"dataset": "nums", "layers": [0, 1, 2]}},
               {"id": "vec", "kind": "vectors", "inputs": {"activations": "acts"}},
               {"id": "sweep", "kind": "steering_sweep", "inputs": {"vector": "vec"},
                "params": {"layers": \(CachePropertyTests.sweepLayers[sweepLayers].text), "multipliers": \(CachePropertyTests.multipliers[multipliers].text), "dataset": "nums"}},
               {"id": "ppl", "kind": "perplexity", "params": {"dataset": "nums"\(CachePropertyTests.pplTokens[pplTokens].text)}},
               {"id": "rep", "kind": "report", "inputs": {"from": ["sweep", "ppl"]}}
             ]}
            """
        }

        /// The oracle: what each stage's result depends on, by stage id.
        var signatures: [String: String] {
            let model = "model \(modelName)", data = "data \(data)"
            let acts = "acts [\(model)] [\(data)]"
            let vec = "vec [\(model)] [\(acts)]"
            let sweep = "sweep \(CachePropertyTests.sweepLayers[sweepLayers].meaning) × \(CachePropertyTests.multipliers[multipliers].meaning) [\(model)] [\(data)] [\(vec)]"
            let ppl = "ppl \(CachePropertyTests.pplTokens[pplTokens].meaning) [\(model)] [\(data)]"
            return ["acts": acts, "vec": vec, "sweep": sweep, "ppl": ppl, "rep": "rep [\(model)] [\(sweep)] [\(ppl)]"]
        }
    }

    /// Writes the model stand-in with `name` in its metadata (every name has the same length, so the size stays).
    static func writeModel(_ dir: URL, name: String, keepModificationTime: Bool) throws {
        let url = dir.appendingPathComponent("model.gguf")
        let mtime = try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date
        try Arith.writeModelHeader(to: url)
        var w = try GGUFFile(contentsOf: url).rewritten()
        w.set("general.name", .string(name))
        try w.write(to: url)
        if keepModificationTime, let mtime { try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: url.path) }
    }

    @Test func exactlyTheStagesDependingOnAnEditRecompute() throws {
        var state = State()
        let dir = try Arith.experiment(state.manifest, numbers: state.data)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeModel(dir, name: state.modelName, keepModificationTime: false)
        var computed: Set<String> = []
        var rng = SplitMix(state: 22)
        var edits: [String: Int] = [:]
        let stages = ["acts", "vec", "sweep", "ppl", "rep"]
        for trial in 0..<60 {
            var edit = "none"
            if trial > 0 {
                switch Int.random(in: 0..<8, using: &rng) {
                case 0: state.multipliers = Int.random(in: 0..<Self.multipliers.count, using: &rng); edit = "multipliers"
                case 1: state.sweepLayers = Int.random(in: 0..<Self.sweepLayers.count, using: &rng); edit = "sweep layers"
                case 2: state.pplTokens = Int.random(in: 0..<Self.pplTokens.count, using: &rng); edit = "ppl max_tokens"
                case 3:   // bytes and size change
                    state.data += "\(Int.random(in: 1...9, using: &rng))\n"
                    try Data(state.data.utf8).write(to: dir.appendingPathComponent("nums.txt"))
                    edit = "data (size changes)"
                case 4:   // bytes change in place; size and modification time kept
                    var lines = state.data.split(separator: "\n").map(String.init)
                    let i = Int.random(in: 0..<lines.count, using: &rng)
                    lines[i] = String((Int(lines[i])! % 9) + 1)
                    state.data = lines.joined(separator: "\n") + "\n"
                    try ContentKeyTests.editInPlace(dir.appendingPathComponent("nums.txt"), state.data)
                    edit = "data (size and mtime kept)"
                case 5:   // touched only
                    try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: dir.appendingPathComponent("nums.txt").path)
                    edit = "data touched"
                case 6:
                    state.modelName = String(format: "model-%02d", Int.random(in: 0..<4, using: &rng))
                    try Self.writeModel(dir, name: state.modelName, keepModificationTime: true)
                    edit = "model bytes (mtime kept)"
                default:   // back to the first state's data
                    state.data = "1\n2\n3\n4\n"
                    try ContentKeyTests.editInPlace(dir.appendingPathComponent("nums.txt"), state.data)
                    edit = "data restored"
                }
            }
            edits[edit, default: 0] += 1
            try Data(state.manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
            let signatures = state.signatures
            let expected = Set(stages.filter { !computed.contains(signatures[$0]!) })
            let log = CallLog()
            let summary = try Arith.run(dir, registry: Arith.registry(log: log))
            #expect(!summary.failed, "trial \(trial) (\(edit)): \(summary)")
            #expect(log.stages == expected, "trial \(trial) after \(edit): recomputed \(log.stages.sorted()), expected \(expected.sorted())")
            computed.formUnion(stages.map { signatures[$0]! })
        }
        #expect(edits.count == 9, "every kind of edit was tried: \(edits)")
    }
}

extension GGUFFile {
    /// A writer holding this file's metadata and tensors (to change a key and write it again).
    func rewritten() throws -> GGUFWriter {
        var w = GGUFWriter(alignment: alignment)
        for key in metadataKeys { w.set(key, metadata[key]!) }
        for t in tensors { try w.addRawTensor(name: t.name, shape: t.shape, type: t.type, bytes: bytes(of: t)) }
        return w
    }
}
