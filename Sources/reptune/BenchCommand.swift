import Engine
import Foundation
import ModelFormats

/// `reptune bench [MODEL]`: engine speed next to the machine's own sgemm peak, measured in the same run.
enum BenchCommand {
    static let spec = Arguments.Spec(
        usage: "bench [MODEL] [--threads N] [--repeats N]",
        summary: "prefill and decode tokens/s, and cblas_sgemm GFLOP/s at the model's shapes measured in the same run",
        valued: ["threads", "repeats"])

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        let url = try ModelLocation.resolve(a.positional.first)
        if let t = try a.int("threads") { MatMul.setThreads(t) }
        let loadStart = Date()
        let model = try LlamaModel(gguf: GGUFFile(contentsOf: url))
        let loadSeconds = Date().timeIntervalSince(loadStart)
        var bench = EngineBenchmark(model: model)
        if let r = try a.int("repeats") { bench.repeats = max(1, r) }
        let json = a.flags.contains("json")
        if !json {
            print("model: \(url.lastPathComponent) (\(model.config.blockCount) blocks, d=\(model.config.embeddingLength)); loaded in \(String(format: "%.2f", loadSeconds)) s; BLAS threads: \(MatMul.threads)")
        }
        let figures = bench.run { f in
            if !json {
                print(f.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                      + String(format: "%10.1f ", f.value) + f.unit.padding(toLength: 10, withPad: " ", startingAt: 0) + f.note)
            }
        }
        if json { try printJSON(figures) }
    }
}
