import Foundation
import Pipeline
import TestSupport

/// A results store built by hand following docs/RESULTS.md: a base and two steered facts conditions with
/// generations, a TQA pair whose items differ, a steering sweep with a zero-out cell, vectors, perplexity, a tune
/// run with history and cosine map, a judge, and a report stage (left out of reports).
enum ReportFixture {
    static let claimer = Claimer(token: "report-fixture")

    /// Adds a done stage with `cells` (coordinates, result) to run 1 and returns its key.
    @discardableResult
    static func stage(_ store: Store, _ id: String, _ kind: StageKind, params: String = "{}",
                      cells: [([JSONMember], CellResult)]) throws -> String {
        let key = "key-\(id)"
        let sweep = cells.enumerated().map { SweepCell(index: $0.offset, coordinates: $0.element.0) }
        try store.ensureStage(key: key, stageID: id, kind: kind, paramsJSON: params, keyJSON: "{}", cells: sweep)
        let claimed = try store.claimCells(key, limit: sweep.count, claimer: claimer)
        for (cell, result) in zip(claimed, cells.map(\.1)) { try store.commitCell(key, cell, result, claimer: claimer) }
        try store.setStageStatus(key, .done)
        return key
    }

    /// Scored answers: items `items`, the first `honest` honest, then `dishonest` dishonest, the rest unparseable.
    static func answers(_ items: Range<Int>, honest: Int, dishonest: Int) -> [Generation] {
        items.enumerated().map { i, item in
            let score: Double? = i < honest ? 1 : (i < honest + dishonest ? 0 : nil)
            return Generation(item: item, prompt: "prompt \(item)", output: score == 1 ? "A" : (score == 0 ? "B" : "?"), score: score,
                              meta: .object(["answer": .string(score == 1 ? "a" : (score == 0 ? "b" : "unparseable"))]))
        }
    }

    /// An evaluate cell's result as the contract stores it (counts, percentages, generations).
    static func scored(_ generations: [Generation], variant: String, task: String, counts: Bool = true) -> CellResult {
        let n = generations.count
        let h = generations.filter { $0.score == 1 }.count, d = generations.filter { $0.score == 0 }.count
        var metrics: [String: Double] = ["n": Double(n)]
        if counts {
            metrics["honest"] = Double(h)
            metrics["dishonest"] = Double(d)
            metrics["unparseable"] = Double(n - h - d)
            metrics["honest_pct"] = 100 * Double(h) / Double(n)
            metrics["dishonest_pct"] = 100 * Double(d) / Double(n)
        }
        if task == "facts" { metrics["logit_honest_pct"] = 100 * Double(h + 1) / Double(n) }
        return CellResult(metrics: metrics, outputs: .object(["task": .string(task), "variant": .string(variant), "dataset": .string(task == "facts" ? "gpt4" : "tqa")]),
                          generations: generations)
    }

    static func build(_ directory: URL) throws -> Store {
        let store = try Store(directory: directory)
        try store.db.run("INSERT INTO runs (manifest_name, base_directory, manifest_text, status, started_at) VALUES ('honesty', '/x', '{}', 'done', 1)")
        var keys: [(String, String)] = []
        func add(_ id: String, _ kind: StageKind, params: String = "{}", cells: [([JSONMember], CellResult)]) throws {
            keys.append((id, try stage(store, id, kind, params: params, cells: cells)))
        }
        try add("vec", .vectors, cells: [([], CellResult(metrics: ["best_auroc": 0.95, "best_layer": 15], outputs: .object([
            "method": "mean_diff",
            "layers": .array([
                .object(["layer": 15, "auroc": .double(0.95), "explained_variance": .double(0.41), "norm": .double(3.5),
                         "lens_positive": .array([" honest", "true", "truth"]), "lens_negative": .array(["lie", "false"])]),
                .object(["layer": 10, "auroc": .double(0.8), "explained_variance": .double(0.3), "norm": .double(2.25),
                         "lens_positive": .array(["yes"]), "lens_negative": .array(["no"])]),
            ]),
        ])))])
        let facts = #"{"task": "facts", "dataset": "gpt4", "variant": "base"}"#
        try add("facts_base", .evaluate, params: facts, cells: [([], scored(answers(0..<40, honest: 30, dishonest: 10), variant: "base", task: "facts"))])
        try add("facts_pos", .evaluate, params: #"{"task": "facts", "dataset": "gpt4", "variant": "steered", "layer": 15, "multiplier": 19}"#,
                cells: [([], scored(answers(0..<40, honest: 34, dishonest: 5), variant: "steered L15 ×19", task: "facts"))])
        try add("facts_neg", .evaluate, params: #"{"task": "facts", "dataset": "gpt4", "variant": "steered", "layer": 15, "multiplier": -19}"#,
                cells: [([], scored(answers(0..<40, honest: 12, dishonest: 28), variant: "steered L15 ×-19", task: "facts"))])
        try add("tqa_base", .evaluate, params: #"{"task": "tqa", "dataset": "tqa", "variant": "base"}"#,
                cells: [([], scored(answers(0..<20, honest: 10, dishonest: 9), variant: "base", task: "tqa"))])
        // Items 1…20 (not the base's 0…19): no paired test; no counts stored: derived from the generations.
        try add("tqa_tuned", .evaluate, params: #"{"task": "tqa", "dataset": "tqa", "variant": "tuned"}"#,
                cells: [([], scored(answers(1..<21, honest: 15, dishonest: 5), variant: "tuned", task: "tqa", counts: false))])
        func sweepCell(_ layer: Int, _ m: Int?, _ honest: Double) -> ([JSONMember], CellResult) {
            let coordinates: [JSONMember] = m.map { [JSONMember(key: "layer", value: .int(layer)), JSONMember(key: "multiplier", value: .int($0))] }
                ?? [JSONMember(key: "layer", value: .int(layer)), JSONMember(key: "zero_out", value: true)]
            return (coordinates, CellResult(metrics: ["n": 40, "honest_pct": honest], outputs: .object(["task": "facts"])))
        }
        try add("sweep", .steeringSweep, params: #"{"task": "facts"}"#, cells: [
            sweepCell(10, -19, 20), sweepCell(10, 19, 70), sweepCell(15, -19, 10), sweepCell(15, 19, 90), sweepCell(10, nil, 50),
        ])
        try add("ppl_base", .perplexity, params: #"{"variant": "base"}"#,
                cells: [([], CellResult(metrics: ["perplexity": 12.34567, "tokens": 1000, "nll": 2513.2], outputs: .object(["variant": "base"])))])
        try add("tune", .tune, params: #"{"objective": "honesty"}"#, cells: [(
            [JSONMember(key: "lr_vo", value: .double(1e-5)), JSONMember(key: "lr_other", value: .double(1e-6))],
            CellResult(metrics: ["steps": 4, "final_train_loss": 0.5, "final_validation_loss": 0.6, "best_validation_loss": 0.55, "seconds": 12],
                       outputs: .object([
                           "objective": "honesty", "layers": .array([11, 12]),
                           "history": .array([
                               .object(["step": 1, "train": .double(2.0), "validation": .double(2.1)]),
                               .object(["step": 2, "train": .double(1.5), "validation": .null]),
                               .object(["step": 3, "train": .double(1.0), "validation": .double(0.7)]),
                               .object(["step": 4, "train": .double(0.5), "validation": .double(0.6)]),
                           ]),
                           "cosine_map": .object([
                               "layers": .array([11, 12]), "positions": .array([-1, 0]),
                               "base": .array([.array([.double(0.1), .double(0.2)]), .array([.double(0.3), .double(0.4)])]),
                               "tuned": .array([.array([.double(0.9), .double(0.8)]), .array([.double(-0.5), .double(1)])]),
                           ]),
                       ])))])
        try add("judge", .judge, cells: [([], CellResult(metrics: ["a_wins": 12, "b_wins": 3, "ties": 5, "wilcoxon_p": 0.0123, "kappa": 0.6]))])
        try add("rep", .report, cells: [([], CellResult(outputs: .object(["directory": "report"])))])
        try store.recordRunStages(1, stages: keys.map { (stageID: $0.0, key: $0.1) })
        return store
    }
}
