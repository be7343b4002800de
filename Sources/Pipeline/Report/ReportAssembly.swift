import Experiments

extension ReportModel {
    /// Builds the report's content from stored stages (in the order given: the run's plan order). Absent metrics
    /// and outputs are tolerated (the table or plot is left out); malformed ones are errors naming the stage, the
    /// cell and the field.
    public static func assemble(_ stages: [StoredStage], title: String, preamble: [String] = []) throws -> ReportModel {
        var model = ReportModel(title: title, preamble: preamble, conditions: try conditionTables(stages), sweeps: try sweepGrids(stages),
                                vectors: try vectorDiagnostics(stages), perplexity: try perplexityResults(stages), tunes: try tuneRuns(stages),
                                judges: judgeResults(stages))
        model.actAddTopics = try actAddTopics(stages)
        model.caa = try caaSweeps(stages)
        model.caaOpenEnded = caaOpenEndedStages(stages)
        model.caaConditional = caaConditionalStages(stages)
        return model
    }

    // MARK: conditions

    static let scoredTasks: Set<String> = ["facts", "tqa", "ab_questions"]

    static func conditionTables(_ stages: [StoredStage]) throws -> [ConditionTable] {
        var groups: [(task: String, dataset: String?, rows: [ConditionResult])] = []
        for stage in stages where stage.kind == .evaluate {
            for cell in stage.cells {
                guard let task = stage.text("task", cell: cell), scoredTasks.contains(task) else { continue }
                guard let row = try condition(stage, cell) else { continue }
                let dataset = cell.outputs["dataset"]?.stringValue ?? stage.params["dataset"]?.stringValue
                if let g = groups.firstIndex(where: { $0.task == task && $0.dataset == dataset }) {
                    groups[g].rows.append(row)
                } else {
                    groups.append((task, dataset, [row]))
                }
            }
        }
        return groups.map { group in
            var rows = group.rows
            // The first base-variant row is the base; it goes first, the rest keep plan order.
            if let b = rows.firstIndex(where: \.isBase) {
                for i in rows.indices where i != b { rows[i].isBase = false }
                rows.insert(rows.remove(at: b), at: 0)
                let base = rows[0]
                for i in rows.indices.dropFirst() { rows[i].versusBase = compare(rows[i], base) }
            }
            let shared = groups.filter { $0.task == group.task }.count > 1
            let id = shared ? "\(group.task)-\(ReportModel.fileSafe(group.dataset ?? "none"))" : group.task
            return ConditionTable(task: group.task, dataset: group.dataset, id: id, rows: rows)
        }.sorted { $0.id < $1.id }
    }

    /// One evaluate cell as a condition; nil when it stores no count of prompts (`n`) and no generations.
    static func condition(_ stage: StoredStage, _ cell: CellRecord) throws -> ConditionResult? {
        let generations = stage.generations[cell.index] ?? []
        let m = StoredMetrics(cell, kind: .evaluate)
        guard let nValue = try m["n"] ?? (generations.isEmpty ? nil : Double(generations.count)) else { return nil }
        let n = Int(nValue.rounded())
        func count(_ name: String, score: Double?) throws -> Int {
            if let c = try m[name] { return Int(c.rounded()) }
            if let pct = try m["\(name)_pct"] { return Int((pct * Double(n) / 100).rounded()) }
            return generations.filter { $0.score == score }.count
        }
        let honest = try count("honest", score: 1), dishonest = try count("dishonest", score: 0)
        let unparseable = try m["unparseable"].map { Int($0.rounded()) } ?? max(0, n - honest - dishonest)
        guard honest >= 0, dishonest >= 0, honest + dishonest <= n else {
            throw ReportError("stage \"\(stage.stageID)\" cell \(cell.index): metrics honest (\(honest)) + dishonest (\(dishonest)) exceed n (\(n))")
        }
        var scores: [Int: Double?] = [:]
        for g in generations { scores[g.item] = g.score }
        let variantParam = stage.params["variant"]?.stringValue ?? "base"
        let variant = cell.outputs["variant"]?.stringValue ?? variantParam
        // A prompted condition (a system prompt asking for the behaviour) is never the base.
        let isBase = variantParam == "base" && stage.params["system_prompt"] == nil
        var row = ConditionResult(stageID: stage.stageID, cellIndex: cell.index, label: stage.label(cell), variant: variant, n: n,
                                  honest: honest, dishonest: dishonest, unparseable: unparseable,
                                  honestInterval: WilsonInterval(successes: honest, trials: n),
                                  dishonestInterval: WilsonInterval(successes: dishonest, trials: n),
                                  logitHonestPercent: try m["logit_honest_pct"],
                                  scores: scores, isBase: isBase, versusBase: nil)
        row.controls = try ConditionControls.read(m)
        return row
    }

    static func compare(_ row: ConditionResult, _ base: ConditionResult) -> ConditionComparison {
        var comparison = ConditionComparison(
            honestDifference: row.honestPercent - base.honestPercent, dishonestDifference: row.dishonestPercent - base.dishonestPercent,
            honestZ: TwoProportionZTest(successes1: row.honest, trials1: row.n, successes2: base.honest, trials2: base.n),
            dishonestZ: TwoProportionZTest(successes1: row.dishonest, trials1: row.n, successes2: base.dishonest, trials2: base.n),
            honestMcNemar: nil, dishonestMcNemar: nil, pairedItems: 0)
        let items = row.scores.keys.sorted()
        if !items.isEmpty, items == base.scores.keys.sorted() {
            func outcome(_ scores: [Int: Double?], _ value: Double) -> [Bool] { items.map { scores[$0].flatMap { $0 } == value } }
            comparison.honestMcNemar = McNemarTest(first: outcome(base.scores, 1), second: outcome(row.scores, 1))
            comparison.dishonestMcNemar = McNemarTest(first: outcome(base.scores, 0), second: outcome(row.scores, 0))
            comparison.pairedItems = items.count
        }
        return comparison
    }

    // MARK: sweeps

    static func sweepGrids(_ stages: [StoredStage]) throws -> [SweepGrid] {
        var grids: [SweepGrid] = []
        for stage in stages where stage.kind == .steeringSweep || stage.kind == .evaluate {
            var cells: [(layer: Int, multiplier: Double?, honest: Double)] = []
            for cell in stage.cells {
                guard let layerValue = cell.coordinates["layer"] else { continue }
                guard let layer = layerValue.intValue else {
                    throw ReportError("stage \"\(stage.stageID)\" cell \(cell.index): coordinate layer must be an integer, found \(layerValue)")
                }
                let m = StoredMetrics(cell, kind: stage.kind ?? .evaluate)
                let n = try m["n"]
                guard let honest = try m["honest_pct"] ?? m["honest"].flatMap({ h in n.flatMap { $0 > 0 ? 100 * h / $0 : nil } }) else { continue }
                if cell.coordinates["zero_out"]?.boolValue == true {
                    cells.append((layer, nil, honest))
                } else if let multiplier = cell.coordinates["multiplier"]?.doubleValue {
                    cells.append((layer, multiplier, honest))
                }
            }
            let multipliers = Array(Set(cells.compactMap(\.multiplier))).sorted()
            // An evaluate stage is a grid only when it sweeps; a single steered evaluate cell is a condition.
            guard !multipliers.isEmpty, stage.kind == .steeringSweep || cells.count > 1 else { continue }
            let layers = Array(Set(cells.map(\.layer))).sorted()
            var honest = [[Double?]](repeating: [Double?](repeating: nil, count: multipliers.count), count: layers.count)
            var zeroOut: [Int: Double] = [:]
            for c in cells {
                if let m = c.multiplier {
                    honest[layers.firstIndex(of: c.layer)!][multipliers.firstIndex(of: m)!] = c.honest
                } else {
                    zeroOut[c.layer] = c.honest
                }
            }
            let task = stage.cells.first.flatMap { stage.text("task", cell: $0) }
            grids.append(SweepGrid(stageID: stage.stageID, task: task, layers: layers, multipliers: multipliers, honest: honest,
                                   zeroOut: zeroOut))
        }
        return grids
    }

    // MARK: vectors

    static func vectorDiagnostics(_ stages: [StoredStage]) throws -> [VectorDiagnostics] {
        try stages.filter { $0.kind == .vectors }.compactMap { stage in
            guard let cell = stage.cells.first, let layersValue = cell.outputs["layers"] else { return nil }
            guard let items = layersValue.arrayValue else {
                throw ReportError("stage \"\(stage.stageID)\" outputs.layers: expected an array of per-layer objects, found \(layersValue.typeName)")
            }
            let layers = try items.enumerated().map { i, item -> VectorDiagnostics.Layer in
                guard let layer = item["layer"]?.intValue else {
                    throw ReportError("stage \"\(stage.stageID)\" outputs.layers[\(i)].layer: expected an integer, found \(item["layer"].map { "\($0)" } ?? "nothing")")
                }
                func tokens(_ name: String) -> [String] { item[name]?.arrayValue?.compactMap(\.stringValue) ?? [] }
                return VectorDiagnostics.Layer(layer: layer, auroc: item["auroc"]?.doubleValue,
                                               explainedVariance: item["explained_variance"]?.doubleValue, norm: item["norm"]?.doubleValue,
                                               lensPositive: tokens("lens_positive"), lensNegative: tokens("lens_negative"))
            }.sorted { $0.layer < $1.layer }
            return VectorDiagnostics(stageID: stage.stageID, method: stage.text("method", cell: cell), layers: layers)
        }
    }

    // MARK: perplexity, judge

    static func perplexityResults(_ stages: [StoredStage]) throws -> [PerplexityResult] {
        try stages.filter { $0.kind == .perplexity }.flatMap { stage in
            try stage.cells.map { cell in
                let m = StoredMetrics(cell, kind: .perplexity)
                return PerplexityResult(label: stage.label(cell), variant: stage.text("variant", cell: cell) ?? "base",
                                        perplexity: try m["perplexity"], tokens: try m["tokens"], nll: try m["nll"])
            }
        }
    }

    /// Judge cells with their stored metrics; when several judges compared the same two generation sets, each
    /// (and, for per-behaviour judges, the same behaviour) also gets `kappa_between_judges`: Cohen's κ of its per-item scores against the first other such judge's.
    static func judgeResults(_ stages: [StoredStage]) -> [JudgeResult] {
        let judges = stages.filter { $0.kind == .judge }
        func pair(_ cell: CellRecord) -> String? {
            guard let a = cell.outputs["a"]?.stringValue, let b = cell.outputs["b"]?.stringValue else { return nil }
            return [a, b, cell.outputs["behaviour"]?.stringValue ?? ""].joined(separator: "\u{1F}")
        }
        func scores(_ cell: CellRecord) -> [Int: Int] {
            var out: [Int: Int] = [:]
            for row in cell.outputs["items"]?.arrayValue ?? [] {
                if let i = row["item"]?.intValue, let s = row["score"]?.intValue { out[i] = s }
            }
            return out
        }
        let cells = judges.flatMap { stage in stage.cells.map { (stage, $0) } }
        return cells.map { stage, cell in
            var metrics = cell.metrics
            if let key = pair(cell), let other = cells.first(where: { $0.1.stageKey != cell.stageKey && pair($0.1) == key }) {
                let mine = scores(cell), theirs = scores(other.1)
                let shared = mine.keys.filter { theirs[$0] != nil }.sorted()
                if !shared.isEmpty, let k = CohensKappa(rater1: shared.map { mine[$0]! }, rater2: shared.map { theirs[$0]! })?.kappa,
                   k.isFinite {
                    metrics["kappa_between_judges"] = k
                }
            }
            return JudgeResult(label: stage.label(cell), metrics: metrics)
        }
    }

    // MARK: tune

    static func tuneRuns(_ stages: [StoredStage]) throws -> [TuneRun] {
        try stages.filter { $0.kind == .tune }.flatMap { stage in
            try stage.cells.map { cell in
                let place = "stage \"\(stage.stageID)\" cell \(cell.index)"
                var history: [TuneRun.Step] = []
                if let value = cell.outputs["history"] {
                    guard let items = value.arrayValue else {
                        throw ReportError("\(place) outputs.history: expected an array of {step, train, validation}, found \(value.typeName)")
                    }
                    history = try items.enumerated().map { i, item in
                        guard let step = item["step"]?.intValue else {
                            throw ReportError("\(place) outputs.history[\(i)].step: expected an integer")
                        }
                        return TuneRun.Step(step: step, train: item["train"]?.doubleValue, validation: item["validation"]?.doubleValue)
                    }
                }
                return TuneRun(stageID: stage.stageID, cellIndex: cell.index, label: stage.label(cell),
                               objective: stage.text("objective", cell: cell), metrics: cell.metrics, history: history,
                               cosineMap: try cell.outputs["cosine_map"].map { try cosineMap($0, place: place) })
            }
        }
    }

    static func cosineMap(_ value: JSONValue, place: String) throws -> TuneRun.CosineMap {
        func ints(_ name: String) throws -> [Int] {
            guard let items = value[name]?.arrayValue, items.allSatisfy({ $0.intValue != nil }) else {
                throw ReportError("\(place) outputs.cosine_map.\(name): expected an array of integers")
            }
            return items.compactMap(\.intValue)
        }
        let layers = try ints("layers"), positions = try ints("positions")
        func matrix(_ name: String) throws -> [[Double?]] {
            guard let rows = value[name]?.arrayValue, rows.count == layers.count,
                  rows.allSatisfy({ ($0.arrayValue?.count ?? -1) == positions.count }) else {
                throw ReportError("\(place) outputs.cosine_map.\(name): expected \(layers.count) rows (layers) of \(positions.count) numbers (positions)")
            }
            return rows.map { $0.arrayValue!.map(\.doubleValue) }
        }
        return TuneRun.CosineMap(layers: layers, positions: positions, base: try matrix("base"), tuned: try matrix("tuned"))
    }

    /// `text` with every character outside letters, digits, `-` and `_` replaced by `-` (file names).
    static func fileSafe(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" })
    }
}

/// The finite metrics of a stored cell, read by the names its kind's declaration lists (`StageOutputs.metric`): a
/// name no declaration lists is an error, not an empty column.
struct StoredMetrics {
    let values: [String: Double]
    let kind: StageKind

    init(_ cell: CellRecord, kind: StageKind) {
        values = cell.metrics.filter { $0.value.isFinite }
        self.kind = kind
    }

    subscript(name: String) -> Double? {
        get throws { values[try StageOutputs.metric(name, of: kind)] }
    }
}
