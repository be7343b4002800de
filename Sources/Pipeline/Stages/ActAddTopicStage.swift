import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// `actadd_topic`: ActAdd (Turner et al.) topic steering. For each layer × coefficient cell the prompt pair's
    /// residuals at the input of block L give `c · (h(p₊) − h(p₋))` per position, added to the first positions of
    /// every prompt (not on cached decode steps); `samples_per_prompt` completions of each prompt are sampled
    /// (temperature, top-p, frequency penalty, seeded per prompt so every cell draws from the same random streams)
    /// and their topic words counted (FORMAT.md's rule). A cell also scores the on-/off-topic texts and the
    /// relatedness documents with and without the steering (perplexity ratios). The `baseline` cell samples unsteered.
    ///
    /// A cell's completions so far are saved at prompt boundaries (`ActAddTopicProgress`); a re-run continues at
    /// the next prompt with the completions of an uninterrupted run.
    public static var actAddTopic: StageRunner {
        StageRunner(memoryEstimate: { _ in 1 << 30 }) { context in
            let p = try context.decodeParams(ActAddTopicParams.self)
            let model = try context.baseModel()
            let setup = try ActAddTopicSetup(context, p, model: model)
            // The unsteered log-probability of each scored text, computed once for every cell of this process.
            var unsteered: [String: Double] = [:]
            while let cell = try context.nextCells(1).first {
                var checkpoint = CellCheckpoint(context, name: "cell-\(cell.index).json")
                let result = try actAddTopicCell(context, cell, p, setup, model: model, checkpoint: &checkpoint, unsteered: &unsteered)
                try context.commit(cell, result)
                checkpoint.remove()
            }
        }
    }

    private static func actAddTopicCell(_ context: StageContext, _ cell: SweepCell, _ p: ActAddTopicParams, _ setup: ActAddTopicSetup,
                                        model: StageModel, checkpoint: inout CellCheckpoint,
                                        unsteered: inout [String: Double]) throws -> CellResult {
        let isBaseline = cell["baseline"]?.boolValue == true
        var steering: ActAddSteering?
        var label = "unsteered"
        if !isBaseline {
            guard let layer = cell["layer"]?.intValue, let coefficient = cell["coefficient"]?.doubleValue else {
                throw StageInputError("stage \(context.stage.id): cell \(cell.index) has no layer and coefficient")
            }
            let s = ActAddSteering(model: model.network, pair: setup.pair, block: layer, coefficient: Float(coefficient))
            label = "L\(layer) ×\(PythonNumber.format(coefficient))"
            guard s.isFinite else { throw setup.nonFinite(context, cell, layer: layer, coefficient: coefficient) }
            steering = s
        }
        let interventions = steering.map { [$0.intervention] } ?? []
        let (prompts, samples) = (setup.prompts.count, p.samplesPerPrompt)
        var completions = checkpoint.restore(ActAddTopicProgress.self, context, expected: "\(prompts) prompts × \(samples) samples") {
            $0.prompts == prompts && $0.samples == samples && $0.completions.count <= prompts && $0.completions.allSatisfy { $0.count == samples }
        }?.completions ?? []
        let resumeAt = completions.count
        if resumeAt > 0 {
            context.log("cell \(cell.index): resuming at prompt \(resumeAt) of \(prompts) from \(checkpoint.url.lastPathComponent)")
        }
        context.progress("prompts", done: resumeAt, total: setup.prompts.count, status: label)
        for i in resumeAt..<setup.prompts.count {
            try checkpoint.reached(context, done: "cell \(cell.index): interrupted after prompt \(i) of \(prompts)", hasNew: i > resumeAt,
                                   save: CellCheckpoint.json(ActAddTopicProgress(prompts: prompts, samples: samples, completions: completions)))
            var texts: [String] = []
            for chunk in stride(from: 0, to: p.samplesPerPrompt, by: ActAddTopicSetup.chunk) {
                let size = min(ActAddTopicSetup.chunk, p.samplesPerPrompt - chunk)
                let requests = Array(repeating: GenerationRequest(prompt: setup.prompts[i].tokens, interventions: interventions), count: size)
                let results = model.network.generate(requests, options: setup.options(prompt: i, chunk: chunk))
                if results.contains(where: { $0.finishReason == .nonFinite }) {
                    checkpoint.remove()
                    throw setup.nonFinite(context, cell, layer: cell["layer"]?.intValue ?? -1, coefficient: cell["coefficient"]?.doubleValue ?? 0)
                }
                texts += results.map { model.tokenizer.decode($0.tokens.filter { !setup.stopTokens.contains($0) }) }
            }
            completions.append(texts)
            context.progress("prompts", done: i + 1, total: setup.prompts.count, status: label)
        }

        var generations: [Generation] = []
        var counts: [Int] = []
        var distinct: [Double] = []
        for (i, texts) in completions.enumerated() {
            for (j, text) in texts.enumerated() {
                let count = setup.words.count(in: text)
                counts.append(count)
                if let d = Degeneration(text, n: 2).distinctRatio { distinct.append(d) }
                generations.append(Generation(item: generations.count, prompt: setup.prompts[i].text, output: text, score: Double(count),
                                              meta: .object([JSONMember(key: "prompt_row", value: .int(setup.prompts[i].item)),
                                                             JSONMember(key: "sample", value: .int(j))])))
            }
        }
        let frequency = TopicFrequency(counts: counts)
        let interval = frequency.meanInterval, share = frequency.share
        var metrics: [String: Double] = [
            "samples": Double(frequency.n), "topic_words_mean": frequency.mean,
            "topic_words_ci_low": interval.low, "topic_words_ci_high": interval.high,
            "topic_share_pct": 100 * share.proportion, "topic_share_ci_low": 100 * share.lower, "topic_share_ci_high": 100 * share.upper,
        ]
        if !distinct.isEmpty { metrics["distinct_2_pct"] = 100 * distinct.reduce(0, +) / Double(distinct.count) }
        var outputs: [JSONMember] = [JSONMember(key: "label", value: .string(label))]
        if let steering {
            context.progress("perplexity texts", done: 0, total: 1, status: label)
            for (name, pieces) in [("on_topic", setup.onTopic), ("off_topic", setup.offTopic)] where !pieces.isEmpty {
                let tally = RelatednessPerplexity.tally(pieces, model: model.network, steering: steering, unsteered: unsteered[name])
                unsteered[name] = tally.unsteered
                guard tally.isFinite else { throw setup.nonFinite(context, cell, layer: steering.block, coefficient: Double(steering.coefficient)) }
                if let r = tally.ratio {
                    metrics["ppl_ratio_\(name)"] = r
                    metrics["ppl_tokens_\(name)"] = Double(tally.tokens)
                }
            }
            if !setup.relatedness.isEmpty {
                var bins: [Int: RelatednessPerplexity.Tally] = [:]
                for (b, pieces) in setup.relatedness.sorted(by: { $0.key < $1.key }) {
                    let tally = RelatednessPerplexity.tally(pieces, model: model.network, steering: steering, unsteered: unsteered["bin \(b)"])
                    unsteered["bin \(b)"] = tally.unsteered
                    guard tally.isFinite else { throw setup.nonFinite(context, cell, layer: steering.block, coefficient: Double(steering.coefficient)) }
                    bins[b] = tally
                }
                outputs.append(JSONMember(key: "relatedness_bins", value: .array(bins.sorted { $0.key < $1.key }.map { b, t in
                    .object([JSONMember(key: "low", value: .double(Double(b) * p.relatednessBin)),
                             JSONMember(key: "high", value: .double(Double(b + 1) * p.relatednessBin)),
                             JSONMember(key: "documents", value: .int(t.pieces)), JSONMember(key: "tokens", value: .int(t.tokens)),
                             JSONMember(key: "ppl_ratio", value: t.ratio.map(JSONValue.double) ?? .null)])
                })))
            }
        }
        return CellResult(metrics: metrics, outputs: .object(outputs), generations: generations)
    }
}

/// What every cell of an `actadd_topic` stage shares: the padded pair, the tokenized prompts and scored texts, the
/// topic words and the sampling settings.
struct ActAddTopicSetup {
    /// One prompt of the dataset: its row, text and tokens (the leading token first, when one is used).
    struct Prompt { var item: Int; var text: String; var tokens: [Int] }

    /// Completions sampled per `generate` call; each call's random streams come from the prompt and the chunk.
    static let chunk = 32

    let pair: ActAddPair
    let prompts: [Prompt]
    let words: TopicWords
    let stopTokens: Set<Int>
    let onTopic: [[Int]]
    let offTopic: [[Int]]
    /// Relevance bin → the documents in it (tokenized, truncated).
    let relatedness: [Int: [[Int]]]
    let p: ActAddTopicParams

    init(_ context: StageContext, _ p: ActAddTopicParams, model: StageModel) throws {
        let id = context.stage.id, tokenizer = model.tokenizer
        self.p = p
        var leading: Int?
        if let name = p.leadingToken {
            guard let token = tokenizer.id(of: name) else {
                throw StageInputError("stage \(id): params.leading_token \"\(name)\" is not a token of the model's vocabulary "
                    + "(expected one token such as \"<|endoftext|>\")")
            }
            leading = token
        }
        let encode = { (text: String) in tokenizer.encode(text, parseSpecial: false) }
        guard let pad = tokenizer.id(of: " ") ?? encode(" ").first, encode(" ").count == 1 else {
            throw StageInputError("stage \(id): the model's tokenizer has no single token for \" \" (ActAdd pads the shorter prompt with it)")
        }
        let plus = encode(p.plus), minus = encode(p.minus)
        if plus.isEmpty && minus.isEmpty && leading == nil {
            throw StageInputError("stage \(id): params.plus \"\(p.plus)\" and params.minus \"\(p.minus)\" both tokenize to no tokens: "
                + "the steering would be empty (give a non-empty prompt)")
        }
        if plus.isEmpty && minus.isEmpty {
            throw StageInputError("stage \(id): params.plus \"\(p.plus)\" and params.minus \"\(p.minus)\" both tokenize to no tokens: "
                + "with only the leading token the difference is zero everywhere (give a non-empty prompt)")
        }
        let pair = try ActAddPair(plusText: p.plus, plusTokens: plus, minusText: p.minus, minusTokens: minus, pad: pad, leading: leading)
        self.pair = pair
        let prefix = leading.map { [$0] } ?? []

        guard let (ref, split) = context.dataset("prompts") else {
            throw StageInputError("stage \(id): params.prompts names no dataset of the manifest")
        }
        let name = ref.name
        guard case .lines(let lines) = try StageDataset.load(ref, split: nil, files: context.datasetFiles) else {
            throw StageInputError("stage \(id): params.prompts (dataset \(name)) must be a .txt file of prompts, one per line")
        }
        let rows = try split?.indices(count: lines.count, dataset: name, files: context.datasetFiles) ?? Array(lines.indices)
        prompts = try rows.map { row in
            let text = lines[row]
            let tokens = prefix + encode(text)
            guard tokens.count >= pair.length else {
                throw StageInputError("stage \(id): prompt \(row) of dataset \(name) (\"\(text)\") has \(tokens.count) tokens, fewer than "
                    + "the \(pair.length) positions the steering covers (ActAdd adds to the prompt's first positions)")
            }
            return Prompt(item: row, text: text, tokens: tokens)
        }
        guard !prompts.isEmpty else { throw StageInputError("stage \(id): dataset \(name) has no non-empty prompt line") }
        let words = TopicWords(p.topicWords)
        self.words = words
        stopTokens = tokenizer.stopTokenIDs

        func given(_ param: String) -> Bool { context.params[param]?.stringValue != nil }
        func pieces(_ param: String) throws -> [[Int]] {
            guard given(param) else { return [] }
            guard let (ref, _) = context.dataset(param) else { throw StageInputError("stage \(id): params.\(param) names no dataset of the manifest") }
            return RelatednessPerplexity.sentences(try Self.text(context, ref.url, "dataset \(ref.name)")).map { prefix + encode($0) }
        }
        onTopic = try pieces("on_topic_text")
        offTopic = try pieces("off_topic_text")
        var bins: [Int: [[Int]]] = [:]
        if given("relatedness_text") {
            guard case .text(let wiki) = try context.loadDataset("relatedness_text") else {
                throw StageInputError("stage \(id): params.relatedness_text must be a raw text dataset (e.g. wikitext2_test)")
            }
            let documents = wiki.rows.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty && !$0.hasPrefix("=") }
            let relevance = documents.map { RelatednessPerplexity.relevance($0, words: words) }
            for d in RelatednessPerplexity.subset(relevances: relevance, count: p.relatednessDocuments, seed: UInt64(p.seed)) {
                let tokens = Array((prefix + encode(documents[d])).prefix(p.relatednessMaxTokens))
                bins[RelatednessPerplexity.bin(relevance[d], step: p.relatednessBin), default: []].append(tokens)
            }
        }
        relatedness = bins
    }

    static func text(_ context: StageContext, _ url: URL, _ what: String) throws -> String {
        guard let s = String(data: try context.readKeyed(url, what: what), encoding: .utf8) else {
            throw StageInputError("\(what): \(url.path) is not UTF-8 text")
        }
        return s
    }

    /// Sampling for chunk `chunk` of prompt `prompt`: its own seed, so a cell's completions do not depend on which
    /// prompts ran before (a resumed cell draws what an uninterrupted one draws), and every cell uses the same streams.
    func options(prompt: Int, chunk: Int) -> GenerationOptions {
        let seed = UInt64(p.seed) &* 0x100_0000_01B3 &+ UInt64(prompt) &* 4096 &+ UInt64(chunk)
        return GenerationOptions(maxNewTokens: p.maxNewTokens,
                                 sampling: .random(temperature: Float(p.temperature), topP: Float(p.topP), seed: seed),
                                 stopTokens: stopTokens, frequencyPenalty: FrequencyPenalty(Float(p.frequencyPenalty), counted: .sequence))
    }

    func nonFinite(_ context: StageContext, _ cell: SweepCell, layer: Int, coefficient: Double) -> NonFiniteError {
        NonFiniteError(stage: context.stage.id, cells: [cell], what: "the activations",
                       setting: "adding \"\(p.plus)\" − \"\(p.minus)\" at the input of block \(layer) with coefficient "
                           + "\(PythonNumber.format(coefficient)) (ActAdd's multiplier)")
    }
}

/// The completions so far of one `actadd_topic` cell (its `CellCheckpoint`), so that an interrupted cell resumes at
/// its next prompt. The stage key fixes model, pair, prompts and sampling; the prompt and sample counts are stored as
/// a check all the same.
struct ActAddTopicProgress: Codable {
    var prompts: Int
    var samples: Int
    /// Per prompt done, its completions.
    var completions: [[String]]
}

extension StageKind {
    public static let actAddTopic = StageKind(declaring: "actadd_topic")
}

extension StageDeclaration {
    /// ActAdd topic steering: topic-word frequency of sampled completions and perplexity ratios per layer × coefficient.
    public static let actAddTopic = StageDeclaration(
        StageKindSpec(
            .actAddTopic,
            summary: "ActAdd (Turner et al.) topic steering: the prompt pair's residual difference at the input of block L, "
                + "added position by position to the first positions of each prompt; topic-word frequency of sampled "
                + "completions and perplexity ratios on on-/off-topic text; one cell per (layer, coefficient) and an "
                + "unsteered baseline cell.",
            params: [
                ParamSpec("plus", .string, .required, doc: "p₊, the prompt steered towards (ActAdd's topic runs: `\" weddings\"`)."),
                ParamSpec("minus", .string, .defaulted(.string("")),
                          doc: "p₋, the prompt subtracted; the shorter of the two is right-padded with the space token."),
                ParamSpec("leading_token", .string, .optional,
                          doc: "A token put before the pair and before every prompt (`\"<|endoftext|>\"`). ActAdd's GPT-2 "
                               + "prompts begin with BOS, whose difference is zero, so the injection starts on the first real "
                               + "token; SmolLM2 adds no BOS, and without a neutral first token the addition lands on the "
                               + "prompt's own first token (measured outside reptune: no topic effect then, a clear one "
                               + "with `<|endoftext|>`). Absent = no leading token."),
                ParamSpec("layers", StageCatalog.block, .required, axis: "layer", model: .block,
                          doc: "Blocks L whose input (TransformerLens `blocks.L.hook_resid_pre`) is steered; a grid."),
                ParamSpec("coefficients", StageCatalog.multiplier, .required, axis: "coefficient",
                          doc: "Coefficients c of c·(h(p₊) − h(p₋)); a grid."),
                ParamSpec("baseline", .boolean, .defaulted(.bool(true)),
                          doc: "Also sample the unsteered model once (cell `{\"baseline\": true}`), with the same seeds."),
                ParamSpec("prompts", .dataset, .required, doc: "Prompts, one per line (ActAdd's `prompts.txt`)."),
                ParamSpec("samples_per_prompt", .integer(min: 1, max: ManifestFields.maxBatch), .defaulted(.int(10)),
                          doc: "Completions sampled per prompt and cell."),
                ParamSpec("max_new_tokens", StageCatalog.newTokens, .defaulted(.int(40)), model: .newTokens,
                          doc: "Tokens sampled per completion (ActAdd's wedding runs: 40)."),
                ParamSpec("temperature", .number(min: 0, max: 100), .defaulted(.int(1)), doc: "Sampling temperature (ActAdd: 1)."),
                ParamSpec("top_p", .number(min: 0, max: 1), .defaulted(.double(0.3)), doc: "Nucleus mass (ActAdd: 0.3)."),
                ParamSpec("frequency_penalty", .number(min: 0, max: 100), .defaulted(.int(1)),
                          doc: "TransformerLens's frequency penalty, counting prompt and generated tokens (ActAdd: 1)."),
                ParamSpec("seed", .integer(min: 0, max: ManifestFields.maxExactInteger), .defaulted(.int(0)),
                          doc: "Seed of the sampling (each prompt draws from streams of its own) and of the relatedness subset."),
                ParamSpec("topic_words", .list(.string), .defaulted(.array(["wedding", "weddings", "wed", "marry", "married",
                                                                             "marriage", "bride", "groom", "honeymoon"].map { .string($0) })),
                          doc: "Words counted in completions (lowercased, `\\W` → space, exact matches); default ActAdd's wedding list."),
                ParamSpec("on_topic_text", .dataset, .optional,
                          doc: "Text on the topic (ActAdd's wedding essay): its sentences scored with and without steering."),
                ParamSpec("off_topic_text", .dataset, .optional,
                          doc: "Text off the topic (ActAdd's shipping essay), scored the same way."),
                ParamSpec("relatedness_text", .dataset, .optional,
                          doc: "Raw text of many documents (wikitext-2 rows): perplexity ratio by topic-keyword density bin."),
                ParamSpec("relatedness_documents", .integer(min: 2, max: ManifestFields.maxBatch), .defaulted(.int(200)),
                          doc: "Documents of `relatedness_text` scored: half the most related, half with no keyword (seeded)."),
                ParamSpec("relatedness_max_tokens", .integer(min: 4, max: ManifestFields.maxTokens), .defaulted(.int(128)),
                          doc: "Each relatedness document is cut to this many tokens."),
                ParamSpec("relatedness_bin", .number(min: 1e-6, max: 1), .defaulted(.double(0.005)),
                          doc: "Width of the keyword-density bins (ActAdd: 0.005)."),
            ],
            inputs: [],
            extraCells: .single(flag: "baseline", marker: "baseline")),
        version: 1,
        params: ActAddTopicParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("samples", "count", "Completions sampled (prompts × samples_per_prompt)."),
                .init("topic_words_mean", "count", "Mean topic words per completion (FORMAT.md's count)."),
                .init("topic_words_ci_low", "count", "95% interval of `topic_words_mean` (mean ± 1.96·s/√n), lower end."),
                .init("topic_words_ci_high", "count", "95% interval of `topic_words_mean`, upper end."),
                .init("topic_share_pct", "%", "Completions with at least one topic word."),
                .init("topic_share_ci_low", "%", "Wilson 95% interval of `topic_share_pct`, lower end."),
                .init("topic_share_ci_high", "%", "Wilson 95% interval of `topic_share_pct`, upper end."),
                .init("distinct_2_pct", "%", "Mean distinct-2 of the completions (degeneration: lower = more repetitive)."),
                .init("ppl_ratio_on_topic", "ratio", "Steered ÷ unsteered perplexity of `on_topic_text` (tokens after the steered positions)."),
                .init("ppl_tokens_on_topic", "count", "Tokens scored for `ppl_ratio_on_topic`."),
                .init("ppl_ratio_off_topic", "ratio", "Steered ÷ unsteered perplexity of `off_topic_text`."),
                .init("ppl_tokens_off_topic", "count", "Tokens scored for `ppl_ratio_off_topic`."),
            ],
            notes: "One cell per (layer, coefficient), plus `{\"baseline\": true}` (unsteered: no perplexity ratios). Outputs "
                + "`{\"label\": \"L6 ×4\", \"relatedness_bins\": [{\"low\", \"high\", \"documents\", \"tokens\", \"ppl_ratio\"}]}` "
                + "(bins only with `relatedness_text`). Generations: one per completion, `item` = its index in the cell (prompt by "
                + "prompt, samples in order), `prompt` = the prompt text, `output` = the completion, `score` = its topic-word "
                + "count, `meta` = `{\"prompt_row\": row of the prompts file, \"sample\": j}`."),
        progress: .checkpointed(what: "a cell's completions so far", packed: true),
        sources: ["Pipeline/Stages/ActAddTopicStage.swift", "Pipeline/Stages/CellCheckpoint.swift", "Pipeline/Stages/StageModels.swift",
                  "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift",
                  "Experiments/ActAdd", "Experiments/Steering/Degeneration.swift", "Experiments/Statistics", "Experiments/Datasets"],
        runner: .actAddTopic)
}

/// The parameters of `actadd_topic` read once per stage (layer and coefficient are a cell's coordinates).
struct ActAddTopicParams: Decodable {
    var plus: String
    var minus: String
    var leadingToken: String?
    var baseline: Bool
    var samplesPerPrompt: Int
    var maxNewTokens: Int
    var temperature: Double
    var topP: Double
    var frequencyPenalty: Double
    var seed: Int
    var topicWords: [String]
    var relatednessDocuments: Int
    var relatednessMaxTokens: Int
    var relatednessBin: Double
    enum CodingKeys: String, CodingKey {
        case plus, minus, baseline, temperature, seed
        case leadingToken = "leading_token", samplesPerPrompt = "samples_per_prompt", maxNewTokens = "max_new_tokens"
        case topP = "top_p", frequencyPenalty = "frequency_penalty", topicWords = "topic_words"
        case relatednessDocuments = "relatedness_documents", relatednessMaxTokens = "relatedness_max_tokens"
        case relatednessBin = "relatedness_bin"
    }
}
