import CommandLineSpec
import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune forward MODEL (--prompt TEXT | --chat FILE)`: ids, top-K logits of the last position, and the
/// residual stream (output of block L) at the last position for each captured layer.
enum ForwardCommand {
    struct Output: Encodable {
        struct Logit: Encodable { var id: Int; var piece: String; var logit: Float }
        var ids: [Int]
        var top: [Logit]
        /// Output of block L at the last position, by L.
        var residual: [String: [Float]]
    }

    static func run(_ a: ParsedArguments) throws {
        let p = try PromptOptions(a)
        let layers = a.ints("capture") ?? []
        let blocks = p.model.network.config.blockCount
        if let bad = layers.first(where: { !(0..<blocks).contains($0) }) {
            throw CLIError("--capture \(bad): expected block numbers 0...\(blocks - 1)")
        }
        let k = a.int("top") ?? 10
        var items = [ForwardItem(tokens: p.ids, cache: p.model.network.makeCache(),
                                 interventions: p.interventions + layers.map { .capture(.block($0), positions: .fromEnd([0])) })]
        let out = p.model.network.forward(&items)[0]
        let logits = out.lastLogits
        guard logits.allSatisfy(\.isFinite), !p.interventions.contains(where: \.overflowsFP32) else { throw p.nonFinite() }
        let top = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(max(k, 0)).map {
            Output.Logit(id: $0 - logits.startIndex, piece: p.model.tokenizer.piece($0 - logits.startIndex), logit: logits[$0])
        }
        var residual = [String: [Float]]()
        for (l, c) in zip(layers, out.captures.suffix(layers.count)) { residual[String(l)] = c.values }
        let output = Output(ids: p.ids, top: top, residual: residual)
        if a.json { return try printJSON(output) }
        print("ids (\(p.ids.count)): \(p.ids.map(String.init).joined(separator: " "))")
        print("top \(top.count) logits at the last position:")
        for t in top { print("  " + String(t.id).padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: "%9.4f  ", t.logit) + t.piece.debugDescription) }
        for l in layers {
            let v = residual[String(l)]!
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            print("block \(l) output (last position), norm \(String(format: "%.4f", norm)): [" +
                  v.prefix(8).map { String(format: "%.5f", $0) }.joined(separator: ", ") + ", …]")
        }
    }
}
