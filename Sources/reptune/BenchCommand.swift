import Engine
import Foundation
import Experiments
import ModelFormats

/// `reptune bench [MODEL]`: engine speed next to the machine's own sgemm peak, measured in the same run.
enum BenchCommand {
    static let spec = Arguments.Spec(
        usage: "bench [MODEL] [--threads N] [--repeats N]",
        summary: "prefill/decode tokens/s and a training step against cblas_sgemm measured in the same run; --sweep adds the 5-layer × 6-multiplier × 50-prompt steering sweep with and without prefix reuse",
        valued: ["threads", "repeats", "sweep-prompts", "weights"], flags: ["sweep", "engine-only"])

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        let url = try ModelLocation.resolve(a.positional.first)
        if let t = try a.int("threads") { MatMul.setThreads(t) }
        let loadStart = Date()
        let model = try LlamaModel(gguf: GGUFFile(contentsOf: url), weights: try a.weightsPolicy())
        let loadSeconds = Date().timeIntervalSince(loadStart)
        var bench = EngineBenchmark(model: model)
        if let r = try a.int("repeats") { bench.repeats = max(1, r) }
        let json = a.flags.contains("json")
        if !json {
            print("model: \(url.lastPathComponent) (\(model.config.blockCount) blocks, d=\(model.config.embeddingLength)); loaded in \(String(format: "%.2f", loadSeconds)) s; BLAS threads: \(MatMul.threads), kernels: \(BLASCore.current)")
        }
        let figures = bench.run { f in
            if !json {
                print(f.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                      + String(format: "%10.1f ", f.value) + f.unit.padding(toLength: 10, withPad: " ", startingAt: 0) + f.note)
            }
        }
        var all = figures
        if a.flags.contains("sweep") {
            let count = try a.int("sweep-prompts") ?? 50
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
            if !json { for x in f { print(x.name.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%10.1f ", x.value) + x.unit.padding(toLength: 10, withPad: " ", startingAt: 0) + x.note) } }
            all += f
        }
        if json { try printJSON(all) }
    }
}
