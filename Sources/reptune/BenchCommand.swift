import CommandLineSpec
import Engine
import Foundation
import Experiments
import ModelFormats
import Pipeline
import Server

/// `reptune bench [MODEL]`: engine speed next to the machine's own sgemm peak and read bandwidth, measured in the
/// same run, for each weights policy, with the ratios between them and the peak memory of a `generate` under each.
enum BenchCommand {
    /// `--executors`: the executors' per-unit overheads (docs/SCALING.md).
    static func executors(json: Bool) throws {
        let worker = WorkerInvocation(executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path)
        let hasSbatch = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/sbatch") }
        if !json && !hasSbatch { print("(no sbatch on PATH: Slurm not measured)") }
        let figures = try ExecutorBenchmark(worker: worker).run(slurm: hasSbatch ? SlurmOptions() : nil) { f in
            if !json { print(f.name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10.1f ", f.value) + f.unit) }
        }
        if json {
            struct Row: Encodable { var name: String; var value: Double; var unit: String }
            try printJSON(figures.map { Row(name: $0.name, value: $0.value, unit: $0.unit) })
        }
    }

    static func run(_ a: ParsedArguments) throws {
        if a.flag("executors") { return try executors(json: a.json) }
        let url = try ModelLocation.resolve(a.positional.first)
        if let t = a.int("threads") { MatMul.setThreads(t) }
        let json = a.json
        if a.flag("serve") { return try serve(a, url: url, json: json) }
        let summary = try ModelFileSummary(contentsOf: url)
        let policies: [WeightsPolicy]
        switch a.string("weights") ?? "both" {
        case "both":
            let fp32 = MemoryPlan(summary: summary, policy: .fp32, workload: .generation(batch: 32, context: 128))
            let fits = MachineMemory.availableBytes.map { fp32.totalBytes < $0 * 3 / 4 } ?? true
            policies = summary.supportsNative ? (fits ? [.native, .fp32] : [.native]) : [.fp32]
        case let one:
            policies = [WeightsPolicy(rawValue: one) ?? .native]
        }
        func show(_ f: EngineBenchmark.Figure) {
            guard !json else { return }
            print(f.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                  + String(format: "%10.1f ", f.value) + f.unit.padding(toLength: 10, withPad: " ", startingAt: 0) + f.note)
        }
        var all = [EngineBenchmark.Figure]()
        var byPolicy = [WeightsPolicy: [EngineBenchmark.Figure]]()
        if !json { print("model: \(url.lastPathComponent) (\(summary.config.blockCount) blocks, d=\(summary.config.embeddingLength)); BLAS threads: \(MatMul.threads), kernels: \(BLASCore.current); AVX2 kernels: \(CPUFeatures.hasAVX2 ? "yes" : "no")") }
        for policy in policies {
            let loadStart = Date()
            let model = try LlamaModel(gguf: GGUFFile(contentsOf: url), weights: policy)
            if !json { print("— \(policy.rawValue) weights (loaded in \(String(format: "%.2f", Date().timeIntervalSince(loadStart))) s) —") }
            var bench = EngineBenchmark(model: model, policy: policy)
            bench.repeats = a.int("repeats") ?? bench.repeats
            bench.trainedBlocks = a.int("tuned-blocks") ?? bench.trainedBlocks
            let figures = bench.run { f in
                var f = f
                f.name = "\(policy.rawValue) \(f.name)"
                show(f)
            }.map { f -> EngineBenchmark.Figure in
                var f = f
                f.name = "\(policy.rawValue) \(f.name)"
                return f
            }
            byPolicy[policy] = figures
            all += figures
        }
        if let native = byPolicy[.native], let fp32 = byPolicy[.fp32] {
            if !json { print("— native ÷ fp32 —") }
            for name in ["prefill 1×64", "prefill 8×64", "prefill 32×64", "decode 1 sequence", "decode 16 sequences", "training step 4×64"] {
                guard let n = native.first(where: { $0.name == "native " + name }), let f = fp32.first(where: { $0.name == "fp32 " + name }) else { continue }
                let ratio = name.hasPrefix("training") ? f.value / n.value : n.value / f.value
                let figure = EngineBenchmark.Figure(name: "native ÷ fp32 \(name)", value: ratio, unit: "×",
                                                    note: name.hasPrefix("training") ? "fp32 step time ÷ native step time" : "tokens/s")
                show(figure)
                all.append(figure)
            }
        }
        // Peak memory of a whole `generate` (a process of its own) under each policy.
        for policy in policies {
            guard let peak = try generatePeak(url, policy: policy) else { continue }
            let plan = MemoryPlan(summary: summary, policy: policy, workload: .generation(batch: 1, context: 64 + 32))
            let figure = EngineBenchmark.Figure(name: "generate peak memory (\(policy.rawValue))", value: Double(peak) / 1_048_576,
                                                unit: "MiB", note: String(format: "a 32-token generation, its own process; planned %.0f MiB, file %.0f MiB",
                                                                          Double(plan.totalBytes) / 1_048_576, Double(summary.fileBytes) / 1_048_576))
            show(figure)
            all.append(figure)
        }
        if a.flag("sweep") {
            let model = try LlamaModel(gguf: GGUFFile(contentsOf: url), weights: policies[0])
            all += try sweep(url: url, model: model, count: a.int("sweep-prompts") ?? 50, json: json)
        }
        if json { try printJSON(all) }
    }

    /// Peak resident bytes of `reptune generate MODEL --weights P` (64-token prompt, 32 new tokens), run as a child.
    static func generatePeak(_ url: URL, policy: WeightsPolicy) throws -> Int? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let prompt = Array(repeating: "The history of science is a long story of questions and answers.", count: 5).joined(separator: " ")
        p.arguments = ["generate", url.path, "--prompt", prompt, "--max-tokens", "32", "--weights", policy.rawValue, "--json"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        struct Output: Decodable { var peakResidentBytes: Int }
        guard p.terminationStatus == 0 else { return nil }
        return try? JSONDecoder().decode(Output.self, from: data).peakResidentBytes
    }

    static func sweep(url: URL, model: LlamaModel, count: Int, json: Bool) throws -> [EngineBenchmark.Figure] {
        let repo = RepositoryLocation.root
        let catalog = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: repo))
        let facts = try TrueFalseStatements.load(catalog.descriptor(named: "gpt4_facts"), from: DatasetMirror.beside(repository: repo))
        let file = try GGUFFile(contentsOf: url)
        let tokenizer = try Tokenizer(gguf: file)
        let template = ChatTemplate.detect(gguf: file) ?? ChatTemplate(format: .chatml)
        let prompts = facts.statements.prefix(count).map {
            tokenizer.encode(FactsPrompts.evaluation($0.text).render(template), parseSpecial: true)
        }
        let blocks = model.config.blockCount
        let layers = (0..<5).map { blocks * (1 + 2 * $0) / 10 }
        let sweep = SweepBenchmark(model: model, prompts: prompts, layers: layers, multipliers: [-19, -12, -5, 5, 12, 19])
        if !json { print("steering sweep: layers \(layers) × 6 multipliers × \(prompts.count) prompts, 4 new tokens each") }
        let r = sweep.run { if !json { print("  \($0)") } }
        let f = [
            EngineBenchmark.Figure(name: "sweep with prefix reuse", value: r.withReuse, unit: "s", note: "identical generations: \(r.identical)"),
            EngineBenchmark.Figure(name: "sweep without reuse", value: r.withoutReuse, unit: "s",
                                   note: String(format: "reuse is %.2f× faster", r.withoutReuse / r.withReuse)),
        ]
        if !json {
            for x in f {
                print(x.name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10.1f ", x.value)
                      + x.unit.padding(toLength: 10, withPad: " ", startingAt: 0) + x.note)
            }
        }
        return f
    }

    /// `bench --serve`: the server's figures (`ServeBenchmark`), with the weights as `serve` holds them (auto unless
    /// --weights names one).
    static func serve(_ a: ParsedArguments, url: URL, json: Bool) throws {
        let policy = a.isGiven("weights") ? WeightsPolicy(rawValue: a.string("weights") ?? "auto") ?? .auto : .auto
        var bench = ServeBenchmark(language: try LanguageModel(path: url, weights: policy))
        bench.tokens = a.int("serve-tokens") ?? bench.tokens
        bench.repeats = a.int("repeats") ?? bench.repeats
        if !json { print("model: \(url.lastPathComponent); \(bench.tokens) tokens per request, best of \(bench.repeats); BLAS threads: \(MatMul.threads)") }
        let figures = try bench.run { f in
            guard !json else { return }
            print(f.name.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%10.1f ", f.value)
                  + f.unit.padding(toLength: 7, withPad: " ", startingAt: 0) + f.note)
            fflush(nil)   // each figure as it is measured, also into a file
        }
        if json {
            struct Row: Encodable { var name: String; var value: Double; var unit: String; var note: String }
            try printJSON(figures.map { Row(name: $0.name, value: $0.value, unit: $0.unit, note: $0.note) })
        }
    }
}
