import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// `perplexity`: sliding-window perplexity (METHOD.md §7) of one model variant on a text dataset, with
    /// window, stride, streams and a token budget from the manifest. One cell per (layer, multiplier) when a
    /// steered variant sweeps them.
    ///
    /// Checkpoints: a cell's running sums are written to `<results>/scratch/perplexity/<stage key>/cell-<index>.json`
    /// every `CellCheckpoint.interval` seconds and when the run is cancelled; a re-run continues at the next
    /// window (the full wikitext-2 test is ~30 minutes of windows for SmolLM2 on two cores) and ends with the
    /// uninterrupted perplexity to the bit. The file is deleted once the cell is committed.
    public static var perplexity: StageRunner {
        StageRunner(memoryEstimate: { _ in 1 << 30 }) { context in
            while let cell = try context.nextCells(1).first {
                let (result, checkpoint) = try perplexityCell(context, cell)
                try context.commit(cell, result)
                checkpoint.remove()
            }
        }
    }

    private static func perplexityCell(_ context: StageContext, _ cell: SweepCell) throws -> (CellResult, CellCheckpoint) {
        guard case .text(let text) = try context.loadDataset("dataset") else {
            throw StageInputError("stage \(context.stage.id): perplexity needs a raw text dataset (e.g. wiki.test.raw)")
        }
        let model = try context.modelVariant(cell: cell)
        if model.interventions.contains(where: \.overflowsFP32) {
            throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the activations",
                                 setting: NonFiniteError.setting(of: model, layer: context.value("layer", in: cell)?.intValue,
                                                                 multiplier: context.value("multiplier", in: cell)?.doubleValue))
        }
        let p = try context.decodeParams(PerplexityParams.self)
        let scorer = SlidingWindowPerplexity(window: p.window, stride: p.stride, streams: p.streams, maxTokens: p.maxTokens, batch: 2)
        let tokens = PerplexityText.tokens(text.joined(), tokenizer: model.tokenizer, budget: scorer.maxTokens.map { $0 + scorer.streams })
        context.log("\(model.label): scoring \(scorer.maxTokens.map { min($0, tokens.count) } ?? tokens.count) tokens")
        var checkpoint = CellCheckpoint(context, name: "cell-\(cell.index).json")
        let windows = scorer.jobs(count: tokens.count).count
        let start = checkpoint.restore(PerplexityProgress.self, context, expected: "\(windows) windows over \(tokens.count) tokens") {
            $0.windowsTotal == windows && $0.tokens == tokens.count && $0.tally.windows <= windows
        }?.tally ?? .init()
        if start.windows > 0 { context.log("resuming at window \(start.windows) of \(windows) from \(checkpoint.url.lastPathComponent)") }
        context.progress("windows", done: start.windows, total: windows)
        let result = try scorer.evaluate(tokens, model: model.network, interventions: model.interventions, from: start) { tally, total in
            context.progress("windows", done: tally.windows, total: total)
            guard tally.windows < total else { return }
            try checkpoint.reached(context, done: "cell \(cell.index): interrupted after window \(tally.windows) of \(windows)",
                                   save: CellCheckpoint.json(PerplexityProgress(windowsTotal: windows, tokens: tokens.count, tally: tally)))
        }
        guard result.negativeLogLikelihood.isFinite, result.perplexity.isFinite else {
            checkpoint.remove()
            throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the activations",
                                 setting: NonFiniteError.setting(of: model, layer: context.value("layer", in: cell)?.intValue,
                                                                 multiplier: context.value("multiplier", in: cell)?.doubleValue))
        }
        return (CellResult(
            metrics: ["perplexity": result.perplexity, "tokens": Double(result.tokensScored), "nll": result.negativeLogLikelihood],
            outputs: .object([
                "variant": .string(model.label), "window": .int(scorer.window), "stride": .int(scorer.stride),
                "streams": .int(scorer.streams),
            ])), checkpoint)
    }
}

/// The running sums of one perplexity cell (its `CellCheckpoint`), so that an interrupted cell resumes at its next
/// window. The stage key fixes model, text and settings; the window and token counts are stored as a check all the
/// same.
struct PerplexityProgress: Codable {
    var windowsTotal: Int
    var tokens: Int
    var tally: SlidingWindowPerplexity.Tally
}

/// The token stream perplexity is measured on: the whole text with BOS, as METHOD.md §7 tokenises it.
enum PerplexityText {
    /// Tokens of `text` (BOS first when the tokenizer has one). With a `budget`, only a prefix of the text long
    /// enough to give that many tokens is tokenised (a slice of wikitext need not tokenise 1.3 MB).
    static func tokens(_ text: String, tokenizer: Tokenizer, budget: Int?) -> [Int] {
        let encode = { (s: String) in tokenizer.encode(s, addBOS: tokenizer.bosID != nil, parseSpecial: false) }
        guard let budget else { return encode(text) }
        var chars = budget * 8 + 256
        while true {
            let scalars = text.unicodeScalars
            guard chars < scalars.count else { return encode(text) }
            var prefix = String.UnicodeScalarView()
            prefix.append(contentsOf: scalars.prefix(chars))
            let ids = encode(String(prefix))
            // The last token of a cut text may differ from the full text's; keep a margin.
            if ids.count > budget + 8 { return Array(ids.prefix(budget + 1)) }
            chars *= 2
        }
    }
}

extension StageKind {
    public static let perplexity = StageKind(declaring: "perplexity")
}

extension StageDeclaration {
    /// Sliding-window perplexity (METHOD.md §7) of one model variant.
    public static let perplexity = StageDeclaration(
        StageKindSpec(
            .perplexity,
            summary: "Sliding-window perplexity of one model variant on a text dataset.",
            params: [
                ParamSpec("dataset", .dataset, .required, doc: "Text to score (rows joined by blank lines)."),
                ParamSpec("window", .integer(min: 2, max: ManifestFields.maxTokens), .defaulted(.int(1024)), model: .window,
                          doc: "Tokens per window."),
                ParamSpec("stride", .integer(min: 1, max: ManifestFields.maxTokens), .defaulted(.int(512)),
                          doc: "Window step (at most `window`); only the last `stride` tokens of each window are scored."),
                ParamSpec("streams", StageCatalog.batch, .defaulted(.int(2)),
                          doc: "Contiguous streams the token sequence is split into."),
                ParamSpec("max_tokens", .integer(min: 1, max: ManifestFields.maxExactInteger), .optional,
                          doc: "Score at most this many tokens; absent = the whole text."),
            ] + StageCatalog.variantRows,
            inputs: StageCatalog.variantInputs,
            rules: StageCatalog.variantRules),
        version: 1,
        params: PerplexityParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("perplexity", "ratio", "exp(NLL / tokens): perplexity of the scored tokens."),
                .init("tokens", "count", "Tokens scored (each once)."),
                .init("nll", "nats", "Summed negative log-likelihood of the scored tokens."),
            ],
            notes: "One cell (or one per layer × multiplier for a steered grid). Outputs `{\"variant\": …, \"window\": w, "
                + "\"stride\": s, \"streams\": k}`."),
        progress: .checkpointed(what: "running sums (windows done, tokens scored, NLL)", packed: true),
        sources: ["Pipeline/Stages/PerplexityStage.swift", "Pipeline/Stages/CellCheckpoint.swift", "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift",
                  "Experiments/Perplexity", "Experiments/Datasets"],
        runner: .perplexity)
}

/// The parameters of `perplexity` (defaults and docs: its declaration).
struct PerplexityParams: Decodable {
    var window: Int
    var stride: Int
    var streams: Int
    var maxTokens: Int?
    enum CodingKeys: String, CodingKey { case window, stride, streams, maxTokens = "max_tokens" }
}
