import Engine
import Foundation
import ModelFormats

/// What each stage of a plan that will compute needs on this machine, estimated before anything is loaded: the
/// resident memory (`MemoryPlan` at the stage's batch and lengths) and the time (its tokens prefilled, decoded and
/// trained on, at this machine's measured `MachineRates`). Printed by `reptune run --dry-run`. Prompt lengths are
/// typical values per task (the estimate does not tokenize the datasets), so times are approximate by design.
public struct ResourceEstimate: Sendable {
    /// One stage's estimate.
    public struct Stage: Sendable {
        public var id: String
        public var kind: StageKind
        /// Nil for stages that do not load the model (vectors, report).
        public var memory: MemoryPlan?
        /// Nil when the work cannot be counted (a judge over another stage's generations).
        public var seconds: Double?
        /// What was counted.
        public var work: String
    }

    public var model: ModelFileSummary
    /// The model file is not here: its shape was recognised from the file name.
    public var modelIsGuessed: Bool
    public var policy: WeightsPolicy
    public var rates: MachineRates
    /// Memory available now, and the machine's total (what a study run alone can use).
    public var availableBytes: Int?
    public var totalBytes: Int?
    public var stages: [Stage]

    /// Typical tokens of one prompt, by task (the paper's formats with a chat template).
    static let promptTokens = ["facts": 80, "tqa": 130, "ab_questions": 130, "open_ended": 60, "contrast": 90]
    /// Sequences a sweep and an evaluation decode together (`SteeringSweepStage`, `Evaluator`).
    static let sweepBatch = 32, evaluationBatch = 16
    /// Judgements a local judge scores together (`LocalJudge`), each a prompt with two answers (~400 tokens).
    static let judgeBatch = 8

    /// The estimate for the stages of `plan` that compute, or nil when the model is neither here nor recognised.
    public static func estimate(_ plan: Plan, rates: MachineRates? = nil) -> ResourceEstimate? {
        let manifest = plan.manifest
        let guessed = !FileManager.default.fileExists(atPath: manifest.model.url.path)
        guard let model = guessed ? ModelFileSummary.guess(fileName: manifest.model.url.lastPathComponent)
                                  : try? ModelFileSummary(contentsOf: manifest.model.url) else { return nil }
        let policy = model.resolve(manifest.model.weights)
        let c = model.config
        let flops = c.projectionFlopsPerToken
        let bytesPerStep = Double(policy == .native ? model.encodedBytes - (c.tiedEmbeddings ? 0 : model.embeddingBytes)
                                                    : 4 * model.parameterCount)
        let rates = rates ?? MachineRates.measure(config: c, weightBytesPerToken: Int(bytesPerStep))
        var stages = [Stage]()
        for planned in plan.stages where planned.action.computes {
            let spec = planned.spec
            let p = spec.params
            func int(_ name: String) -> Int? { p[name]?.intValue }
            func items(_ param: String) -> Int? {
                guard let use = p[param]?.stringValue.map(DatasetUse.init(parsing:)), let ds = manifest.dataset(use.dataset) else { return nil }
                return DatasetRows.count(ds, split: use.split)
            }
            func memory(_ w: MemoryPlan.Workload) -> MemoryPlan { MemoryPlan(summary: model, policy: manifest.model.weights, workload: w) }
            let cells = max(1, planned.cellsTotal - planned.cellsDone)
            switch spec.kind {
            case .collectActivations:
                let n = items("dataset"), batch = int("batch_size") ?? 8, length = promptTokens["contrast"]!
                // Paired prompts: two per statement.
                let prompts = n.map { 2 * $0 }
                stages.append(Stage(id: spec.id, kind: spec.kind,
                                    memory: memory(MemoryPlan.Workload(batch: batch, context: length, rowsPerPass: batch * length,
                                                                       logitRows: 0, trainableBlocks: 0, recordedBlocks: 0)),
                                    seconds: prompts.map { rates.prefillSeconds(tokens: Double($0 * length), flopsPerToken: flops) },
                                    work: "\(prompts.map(String.init) ?? "?") prompts × ~\(length) tokens"))
            case .steeringSweep, .evaluate:
                let task = p["task"]?.stringValue ?? "facts", length = promptTokens[task] ?? 100
                let newTokens = int("max_new_tokens") ?? 30, n = items("dataset")
                let sweep = spec.kind == .steeringSweep
                let batch = sweep ? Self.sweepBatch : Self.evaluationBatch
                // A sweep prefills each prompt once per layer and decodes every (cell, prompt) in batches of 32.
                let layers = sweep ? Set(spec.cells.compactMap { $0["layer"]?.intValue }).count : 1
                let sequences = n.map { $0 * cells }
                let seconds = n.map { n in
                    rates.prefillSeconds(tokens: Double(n * layers * length), flopsPerToken: flops)
                        + rates.decodeSeconds(steps: Double((sequences! + batch - 1) / batch * newTokens), batch: batch,
                                              bytesPerStep: bytesPerStep, flopsPerToken: flops)
                }
                stages.append(Stage(id: spec.id, kind: spec.kind,
                                    memory: memory(.generation(batch: batch, context: length + newTokens)), seconds: seconds,
                                    work: "\(sequences.map(String.init) ?? "?") generations × ~\(length) + \(newTokens) tokens"))
            case .tune:
                let layers = p["layers"]?.arrayValue?.compactMap(\.intValue) ?? []
                let batch = int("batch_size") ?? 4, epochs = int("epochs") ?? 3, length = promptTokens["facts"]!
                let recorded = c.blockCount - (layers.min() ?? 0)
                let n = items("dataset"), validation = items("validation") ?? 0
                let steps = n.map { epochs * (($0 + batch - 1) / batch) * cells }
                // Forward through every block, backward through the recorded ones (≈ 2× their forward), and a
                // validation batch's forward after each step.
                let perStep = Double(batch * length) * flops * (1 + 2 * Double(recorded) / Double(c.blockCount))
                    + (validation > 0 ? Double(batch * length) * flops : 0)
                // The tune stage keeps gradients and moments on disk when they would not fit (TrainingStatePlacement).
                var workload = MemoryPlan.Workload.training(batch: batch, tokens: length, trainable: layers.count, recorded: recorded)
                if let total = MachineMemory.totalBytes, memory(workload).totalBytes > total { workload.stateOnDisk = true }
                stages.append(Stage(id: spec.id, kind: spec.kind,
                                    memory: memory(workload),
                                    seconds: steps.map { rates.trainingSeconds(flops: Double($0) * perStep) },
                                    work: "≤ \(steps.map(String.init) ?? "?") steps of \(batch) × ~\(length) tokens, \(layers.count) blocks trained"
                                        + (workload.stateOnDisk ? "; gradients and moments on disk" : "")))
            case .perplexity:
                let window = int("window") ?? 1024, stride = int("stride") ?? 512, streams = int("streams") ?? 2
                var tokens = p["dataset"]?.stringValue.map(DatasetUse.init(parsing:)).flatMap { manifest.dataset($0.dataset) }
                    .flatMap { DatasetRows.approximateTokens($0) }
                if let cap = int("max_tokens"), let t = tokens { tokens = min(t, cap) }
                let windows = tokens.map { max(1, ($0 + stride - 1) / stride) }
                stages.append(Stage(id: spec.id, kind: spec.kind,
                                    memory: memory(MemoryPlan.Workload(batch: streams, context: window, rowsPerPass: streams * window,
                                                                       logitRows: streams * stride, trainableBlocks: 0, recordedBlocks: 0)),
                                    seconds: windows.map { rates.prefillSeconds(tokens: Double($0 * window), flopsPerToken: flops) },
                                    work: "~\(tokens.map(String.init) ?? "?") tokens in windows of \(window), stride \(stride)"))
            case .judge:
                let local = (p["backend"]?.stringValue ?? "local") == "local"
                stages.append(Stage(id: spec.id, kind: spec.kind,
                                    memory: local ? memory(.generation(batch: Self.judgeBatch, context: 400)) : nil,
                                    seconds: nil, work: local ? "pairwise judgements on the engine" : "pairwise judgements over HTTP"))
            case .actAddTopic, .caaVectors, .caaABSweep, .caaOpenEnded, .caaConditional:
                let counts = SteeringWorkCounts(spec: spec, manifest: manifest, cells: cells)
                let work = counts.work
                stages.append(Stage(id: spec.id, kind: spec.kind,
                                    memory: memory(.generation(batch: work.batch, context: work.context)),
                                    seconds: work.known ? rates.prefillSeconds(tokens: work.prefillTokens, flopsPerToken: flops)
                                        + rates.decodeSeconds(steps: work.decodeSteps, batch: work.batch, bytesPerStep: bytesPerStep,
                                                              flopsPerToken: flops) : nil,
                                    work: work.text))
            case .vectors, .report:
                stages.append(Stage(id: spec.id, kind: spec.kind, memory: nil, seconds: 0, work: "no model"))
            default:
                stages.append(Stage(id: spec.id, kind: spec.kind, memory: nil, seconds: nil, work: "no estimate for this kind"))
            }
        }
        return ResourceEstimate(model: model, modelIsGuessed: guessed, policy: policy, rates: rates,
                                availableBytes: MachineMemory.availableBytes, totalBytes: MachineMemory.totalBytes, stages: stages)
    }

    /// The stage needing the most memory.
    public var largest: Stage? { stages.filter { $0.memory != nil }.max { $0.memory!.totalBytes < $1.memory!.totalBytes } }

    /// Whether every stage fits in the machine's memory (true when unknown).
    public var fits: Bool {
        guard let total = totalBytes, let largest else { return true }
        return largest.memory!.totalBytes <= total
    }

    public var text: String {
        func gib(_ n: Int) -> String { String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        func duration(_ s: Double?) -> String {
            guard let s else { return "—" }
            if s < 1 { return "< 1 s" }
            if s < 90 { return String(format: "%.0f s", s) }
            if s < 5400 { return String(format: "%.0f min", s / 60) }
            if s < 48 * 3600 { return String(format: "%.1f h", s / 3600) }
            return String(format: "%.1f days", s / 86400)
        }
        let m = model.file.lastPathComponent
        var lines = ["resources on this machine (weights \(policy.rawValue); \(m)\(modelIsGuessed ? ", not here: shape and size guessed from its name" : "")):",
                     String(format: "  measured: cblas_sgemm %.0f GFLOP/s, read bandwidth %.1f GB/s%@", rates.sgemmGFLOPS, rates.bandwidthGBs,
                            totalBytes.map { ", memory \(gib($0))" + (availableBytes.map { " (\(gib($0)) available now)" } ?? "") } ?? "")]
        let width = max(5, stages.map(\.id.count).max() ?? 0)
        for s in stages {
            let memory = s.memory.map { gib($0.totalBytes) } ?? "—"
            lines.append("  " + s.id.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                         + s.kind.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0) + " "
                         + memory.padding(toLength: 9, withPad: " ", startingAt: 0) + " ≈ "
                         + duration(s.seconds).padding(toLength: 9, withPad: " ", startingAt: 0) + "  " + s.work)
        }
        if let largest, let plan = largest.memory {
            var verdict = "  largest: \(largest.id) needs \(gib(plan.totalBytes))"
            if let total = totalBytes {
                verdict += plan.totalBytes <= total ? " — fits in this machine's \(gib(total))"
                    : " — more than this machine's \(gib(total))" + (policy == .fp32 ? " (try \"weights\": \"native\")" : "")
            }
            let over = stages.filter { ($0.memory?.totalBytes ?? 0) > (totalBytes ?? .max) }
            if !over.isEmpty && over.count < stages.count {
                let fitting = stages.filter { $0.memory != nil && !over.map(\.id).contains($0.id) }
                    .map { $0.memory!.totalBytes }.max() ?? 0
                verdict += "; the \(over.count) stage\(over.count == 1 ? "" : "s") over it: \(over.map(\.id).joined(separator: ", ")); every other stage fits (≤ \(gib(fitting)))"
            }
            lines.append(verdict)
            lines.append(plan.text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        }
        let known = stages.compactMap(\.seconds)
        if !known.isEmpty {
            lines.append("  total ≈ \(duration(known.reduce(0, +))) of computing for the stages with an estimate")
        }
        return lines.joined(separator: "\n")
    }
}

/// Row counts of manifest datasets, for estimates: a split's rows, or the lines of the file.
enum DatasetRows {
    static func count(_ ds: DatasetRef, split: String?) -> Int? {
        if let split, let s = ds.split(split) {
            switch s.selection {
            case .rows(let r): return r.count
            case .indices(let i): return i.count
            case .file(_, let url): return lines(url)
            }
        }
        if ds.url.pathExtension.lowercased() == "json", let data = try? Data(contentsOf: ds.url),
           let items = try? JSONSerialization.jsonObject(with: data) as? [Any] {
            return items.count
        }
        guard let n = lines(ds.url) else { return nil }
        return ds.url.pathExtension.lowercased() == "csv" ? max(0, n - 1) : n
    }

    /// Non-empty lines of a text file (nil for a directory or an unreadable file).
    static func lines(_ url: URL) -> Int? {
        guard let data = try? Data(contentsOf: url, options: .mappedIfSafe) else { return nil }
        var count = 0, previous: UInt8 = 10
        for byte in data {
            if byte == 10 && previous != 10 { count += 1 }
            previous = byte
        }
        return count + (previous != 10 ? 1 : 0)
    }

    /// About one token per 4.3 bytes of English text.
    static func approximateTokens(_ ds: DatasetRef) -> Int? {
        guard let size = try? ds.url.resourceValues(forKeys: [.fileSizeKey]).fileSize else { return nil }
        return Int(Double(size) / 4.3)
    }
}
