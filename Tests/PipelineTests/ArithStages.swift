import Foundation
import ModelFormats
import Synchronization
import Pipeline
import TestSupport

/// Records which stage cells the fake runners computed.
final class CallLog: Sendable {
    private let calls = Mutex<[String]>([])
    func add(_ s: String) { calls.withLock { $0.append(s) } }
    var all: [String] { calls.withLock { $0 } }
    func count(_ stageID: String) -> Int { all.filter { $0.hasPrefix(stageID + "#") }.count }
    var stages: Set<String> { Set(all.map { String($0.prefix { $0 != "#" }) }) }
}

/// A deterministic "arith" experiment whose stages stand in for the science: numbers read from a dataset file
/// flow through activations → vector → a layer × multiplier sweep, plus an independent perplexity and a report.
enum Arith {
    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    static func data(_ values: [Float]) -> Data { values.withUnsafeBufferPointer { Data(buffer: $0) } }

    static func numbers(_ context: StageContext, _ param: String = "dataset") throws -> [Float] {
        guard let (ds, _) = context.dataset(param) else { throw StoreError("no dataset") }
        let text = try String(contentsOf: ds.url, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).compactMap { Float($0) }
    }

    /// Fake runners for the kinds the arith manifest uses. `failOn`: a sweep cell layer that throws;
    /// `cancelAfter`: cancel the flag after this many sweep cells; `delay`: seconds per sweep cell.
    static func registry(log: CallLog, failOn: Int? = nil, cancelAfter: Int? = nil, cancel: CancellationFlag? = nil,
                         delay: Double = 0) -> StageRegistry {
        var r = StageRegistry()
        r.register(.collectActivations, .perCell { context, cell in
            log.add("\(context.stage.id)#\(cell.index)")
            let nums = try numbers(context)
            let layers = try context.params.ints("layers")
            // "Activation" of layer L: every number times (L + 1).
            let acts = layers.flatMap { l in nums.map { $0 * Float(l + 1) } }
            return CellResult(metrics: ["rows": Double(nums.count)], artifacts: ["activations": try context.writeArtifact(data(acts))])
        })
        r.register(.vectors, .perCell { context, cell in
            log.add("\(context.stage.id)#\(cell.index)")
            guard let input = context.input("activations"), let ref = input.cells.first?.artifacts["activations"] else {
                throw StoreError("vectors: no activations input")
            }
            let acts = floats(try context.readArtifact(ref))
            let rows = Int(input.cells[0].metrics["rows"] ?? 1)
            // One "vector" component per layer: the mean of that layer's activations.
            let vec = stride(from: 0, to: acts.count, by: rows).map { acts[$0..<min($0 + rows, acts.count)].reduce(0, +) / Float(rows) }
            return CellResult(metrics: ["norm": Double(vec.map { $0 * $0 }.reduce(0, +).squareRoot())],
                              artifacts: ["vector": try context.writeArtifact(data(vec))])
        })
        let sweepCount = Mutex(0)
        r.register(.steeringSweep, .perCell(prepare: { context -> [Float] in
            guard let ref = context.input("vector")?.cells.first?.artifacts["vector"] else { throw StoreError("sweep: no vector") }
            return floats(try context.readArtifact(ref))
        }, cell: { context, vec, cell in
            log.add("\(context.stage.id)#\(cell.index)")
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            let layer = cell["layer"]?.intValue ?? 0
            if layer == failOn { throw StoreError("layer \(layer) exploded") }
            let m = cell["multiplier"]?.doubleValue ?? 0
            let value = Double(vec[layer % vec.count]) * m + Double(try numbers(context).count)
            let n = sweepCount.withLock { $0 += 1; return $0 }
            if let cancelAfter, n >= cancelAfter { cancel?.cancel() }
            return CellResult(metrics: ["value": value, "layer_x_m": Double(layer) * m], outputs: .object(["text": .string("v=\(value)")]),
                              generations: [Generation(item: 0, prompt: "layer \(layer)", output: "m \(m)", score: value)])
        }))
        r.register(.perplexity, .perCell { context, cell in
            log.add("\(context.stage.id)#\(cell.index)")
            let nums = try numbers(context)
            return CellResult(metrics: ["perplexity": Double(nums.reduce(0, +)) / Double(max(1, nums.count))])
        })
        r.register(.report, .perCell { context, cell in
            log.add("\(context.stage.id)#\(cell.index)")
            let cells = context.inputs["from"]?.reduce(0) { $0 + $1.cells.count } ?? 0
            return CellResult(metrics: ["cells_seen": Double(cells)])
        })
        return r
    }

    static func manifest(multipliers: String = "[-2, 1, 3]", layers: String = "[0, 1, 2]") -> String {
        """
        {"name": "arith", "model": "model.gguf",
         "datasets": {"nums": "nums.txt"},
         "stages": [
           {"id": "acts", "kind": "collect_activations", "params": {"dataset": "nums", "layers": [0, 1, 2]}},
           {"id": "vec", "kind": "vectors", "inputs": {"activations": "acts"}},
           {"id": "sweep", "kind": "steering_sweep", "params": {"layers": \(layers), "multipliers": \(multipliers), "dataset": "nums"},
            "inputs": {"vector": "vec"}},
           {"id": "ppl", "kind": "perplexity", "params": {"dataset": "nums"}},
           {"id": "rep", "kind": "report", "inputs": {"from": ["sweep", "ppl"]}}
         ]}
        """
    }

    /// A model stand-in: a GGUF holding only the header of a small Llama (4 blocks, width 8, context 4096), which
    /// is what planning reads; the fake runners never load weights.
    static func writeModelHeader(to url: URL, blocks: Int = 4, context: Int = 4096) throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        for (key, value) in [("block_count", blocks), ("embedding_length", 8), ("feed_forward_length", 16),
                             ("attention.head_count", 2), ("context_length", context), ("vocab_size", 32)] {
            w.set("llama.\(key)", .uint32(UInt32(value)))
        }
        try w.write(to: url)
    }

    /// A temporary experiment directory with the model stand-in, the dataset and `manifest.json`.
    static func experiment(_ text: String = manifest(), numbers: String = "1\n2\n3\n4\n") throws -> URL {
        let dir = try Fixtures.temporaryDirectory("reptune-arith")
        try writeModelHeader(to: dir.appendingPathComponent("model.gguf"))
        try Data(numbers.utf8).write(to: dir.appendingPathComponent("nums.txt"))
        try Data(text.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        return dir
    }

    static func load(_ dir: URL) throws -> Manifest { try Manifest.load(from: dir.appendingPathComponent("manifest.json")) }

    static func plan(_ dir: URL, results: URL? = nil, only: [String] = [], force: [String] = [], engine: Int = 1) throws -> Plan {
        let store = try Store(directory: results ?? dir.appendingPathComponent("results"))
        return try Planner.plan(load(dir), options: PlanOptions(only: only, force: force, engineVersion: engine), store: store)
    }

    @discardableResult
    static func run(_ dir: URL, results: URL? = nil, registry: StageRegistry, only: [String] = [], force: [String] = [],
                    cancellation: CancellationFlag = CancellationFlag(), options: SchedulerOptions = SchedulerOptions()) throws -> RunSummary {
        let resultsDir = results ?? dir.appendingPathComponent("results")
        let p = try plan(dir, results: resultsDir, only: only, force: force)
        return try Scheduler(registry: registry, options: options, cancellation: cancellation).run(p, in: resultsDir)
    }

    /// Every stage's results of the latest run, rendered as JSON: equal iff the stored results are equal.
    static func results(_ resultsDir: URL, stages: [String] = ["acts", "vec", "sweep", "ppl", "rep"]) throws -> String {
        let store = try Store(directory: resultsDir)
        return try stages.map { try StageResults.load(store, stageID: $0).render(.json) }.joined(separator: "\n")
    }
}
