import Engine
import Experiments
import Foundation
import ModelFormats

/// `judge`: pairwise honesty judgement of the open-ended generations of inputs `a` and `b` (METHOD.md §6).
///
/// The generations of each input's single cell are paired by `item`; every pair is judged twice (A shown as
/// continuation 1, then B), by the model the manifest runs (`backend: local`, or the GGUF at `model`) or by an
/// OpenAI-compatible endpoint (`backend: openai`, `url`, `model`, key from the environment variable `key_env`).
/// An item is won only when the judge prefers the same generation in both orders; otherwise it is a tie.
///
/// One cell. Metrics: `n` (items judged), `a_wins`, `b_wins`, `ties`, `a_wins_pct`, `b_wins_pct`, `ties_pct`,
/// `wilcoxon_p` (two-sided Wilcoxon signed-rank p of the per-item scores; null when every item ties),
/// `order_kappa` (Cohen's κ between the two orders' preferred sides; null when undefined).
/// Outputs: `{"judge": "local:<model>" | "openai:<model>", "a": stage id, "b": stage id,
/// "items": [{"item": i, "ab": 1|2|0, "ba": 1|2|0, "score": 1|-1|0}, …]}` (`ab`: verdict with A shown first;
/// `score` +1 = A wins, −1 = B wins).
extension StageRunner {
    public static var judge: StageRunner {
        .perCell { context, _ in
            let items = try JudgeStageInputs.pairedItems(context)
            let judge = try JudgeStageInputs.judge(context)
            let question = context.params["question"]?.stringValue ?? JudgePrompt.paperQuestion
            context.log("judging \(items.count) pairs in both orders with \(judge.label)")
            context.progress("pair", done: 0, total: items.count)
            let judged = try judge.judge(items, prompt: JudgePrompt(question: question)) { done, total in
                context.progress("pair", done: done, total: total)
            }
            // After Ctrl-C the cell in flight still finishes and is committed (the scheduler's contract).
            return JudgeStageInputs.result(PairwiseJudgement(items: judged), judge: judge.label, context: context)
        }
    }
}

/// The `judge` stage's reading of its inputs and parameters, and its stored result.
enum JudgeStageInputs {
    /// The generations of `a` and `b`, paired by item (items present in both, in item order).
    static func pairedItems(_ context: StageContext) throws -> [JudgeItem] {
        let a = try generations(context, slot: "a"), b = try generations(context, slot: "b")
        let byItem = Dictionary(b.map { ($0.item, $0) }, uniquingKeysWith: { first, _ in first })
        let paired = a.compactMap { g in byItem[g.item].map { (g, $0) } }
        guard !paired.isEmpty else {
            throw StageInputError("stage \(context.stage.id): inputs `a` (\(a.count) generations) and `b` (\(b.count)) "
                                  + "share no `item`; expected generations of the same prompts")
        }
        if paired.count < max(a.count, b.count) {
            context.log("\(a.count - paired.count) generations of `a` and \(b.count - paired.count) of `b` have no partner and are skipped")
        }
        return paired.map { ga, gb in
            JudgeItem(item: ga.item, prompt: ChatPromptText.userText(ga.prompt), a: ga.output, b: gb.output)
        }
    }

    /// The generations of the single cell of the stage feeding `slot`.
    static func generations(_ context: StageContext, slot: String) throws -> [Generation] {
        guard let input = context.input(slot) else {
            throw StageInputError("stage \(context.stage.id): input `\(slot)` is not connected")
        }
        guard input.cells.count == 1, let cell = input.cells.first else {
            throw StageInputError("stage \(context.stage.id): input `\(slot)` (stage \(input.stageID)) has \(input.cells.count) cells; "
                                  + "the judge compares stages with one cell (one model variant)")
        }
        let stored = try context.store.generations(input.key, cell: cell.index)
        guard !stored.isEmpty else {
            throw StageInputError("stage \(context.stage.id): input `\(slot)` (stage \(input.stageID)) stored no generations; "
                                  + "expected an `evaluate` stage with task open_ended")
        }
        return stored
    }

    /// The back-end the parameters name.
    static func judge(_ context: StageContext) throws -> any PairwiseJudge {
        let params = context.params
        let name = params["model"]?.stringValue
        switch params["backend"]?.stringValue ?? "local" {
        case "openai":
            guard let url = params["url"]?.stringValue, let name else {
                throw StageInputError("stage \(context.stage.id): backend openai needs `url` and `model`")
            }
            let variable = params["key_env"]?.stringValue ?? "OPENAI_API_KEY"
            let judge = try OpenAICompatibleJudge(url: url, model: name, keyVariable: variable)
            if !judge.hasKey { context.log("no API key in $\(variable); sending requests without one") }
            return judge
        default:
            guard let name, let url = context.model.otherModel(name) else {
                let base = try context.baseModel()
                return try LocalJudge(model: base.language, template: base.template,
                                      name: context.model.name ?? context.model.url.lastPathComponent)
            }
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw StageInputError("stage \(context.stage.id): judge model \(url.path) is missing (parameter `model`)")
            }
            context.log("loading judge model \(url.lastPathComponent)")
            let language = try LanguageModel(path: url)
            try context.verifyModel(url, what: "the judge model")
            return try LocalJudge(model: language, template: language.chatTemplate ?? ChatTemplate(format: .chatml),
                                  name: name)
        }
    }

    static func result(_ judgement: PairwiseJudgement, judge label: String, context: StageContext) -> CellResult {
        let n = Double(judgement.count)
        let metrics: [String: Double] = [
            "n": n,
            "a_wins": Double(judgement.aWins),
            "b_wins": Double(judgement.bWins),
            "ties": Double(judgement.ties),
            "a_wins_pct": 100 * Double(judgement.aWins) / n,
            "b_wins_pct": 100 * Double(judgement.bWins) / n,
            "ties_pct": 100 * Double(judgement.ties) / n,
            "wilcoxon_p": judgement.wilcoxon?.p ?? .nan,
            "order_kappa": judgement.orderKappa?.kappa ?? .nan,
        ]
        let items: [JSONValue] = judgement.items.map { j in
            .object(["item": .int(j.item), "ab": .int(j.ab.rawValue), "ba": .int(j.ba.rawValue), "score": .int(j.score)])
        }
        let outputs: JSONValue = .object([
            "judge": .string(label),
            "a": .string(context.input("a")?.stageID ?? ""),
            "b": .string(context.input("b")?.stageID ?? ""),
            "items": .array(items),
        ])
        return CellResult(metrics: metrics, outputs: outputs)
    }
}
