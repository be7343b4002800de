import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// `perplexity`: sliding-window perplexity (METHOD.md §7) of one model variant on a text dataset, with
    /// window, stride, streams and a token budget from the manifest. One cell per (layer, multiplier) when a
    /// steered variant sweeps them.
    public static var perplexity: StageRunner {
        .perCell(memoryEstimate: { _ in 1 << 30 }) { context, cell in
            guard case .text(let text) = try context.loadDataset("dataset") else {
                throw StageInputError("stage \(context.stage.id): perplexity needs a raw text dataset (e.g. wiki.test.raw)")
            }
            let model = try context.modelVariant(cell: cell)
            let scorer = SlidingWindowPerplexity(window: context.params["window"]?.intValue ?? 1024,
                                                 stride: context.params["stride"]?.intValue ?? 512,
                                                 streams: context.params["streams"]?.intValue ?? 2,
                                                 maxTokens: context.params["max_tokens"]?.intValue, batch: 2)
            let tokens = PerplexityText.tokens(text.joined(), tokenizer: model.tokenizer, budget: scorer.maxTokens.map { $0 + scorer.streams })
            context.log("\(model.label): scoring \(scorer.maxTokens.map { min($0, tokens.count) } ?? tokens.count) tokens")
            let result = scorer.evaluate(tokens, model: model.network, interventions: model.interventions) { done, total in
                context.progress("windows", done: done, total: total)
            }
            return CellResult(
                metrics: ["perplexity": result.perplexity, "tokens": Double(result.tokensScored), "nll": result.negativeLogLikelihood],
                outputs: .object([
                    "variant": .string(model.label), "window": .int(scorer.window), "stride": .int(scorer.stride),
                    "streams": .int(scorer.streams),
                ]))
        }
    }
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
