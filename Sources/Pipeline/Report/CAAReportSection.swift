import Experiments

/// One `caa_ab_sweep` stage as the report shows it: a row per done cell.
public struct CAASweepResult: Sendable {
    /// One cell: behaviour, condition and CAA's A/B numbers.
    public struct Row: Sendable {
        public var behaviour: String
        public var systemPrompt: String
        public var layer: Int
        public var multiplier: Double
        public var pMatching: Double
        public var low: Double
        public var high: Double
        public var accuracy: Double?
        public var abMass: Double?
        public var n: Int
        public var excluded: Int
        /// Each item's P(matching), by item index (the cell's `items` output).
        public var items: [Int: Double]
    }

    public var stageID: String
    /// The side-effect set scored (MMLU, TruthfulQA), nil for the behaviours' own A/B sets.
    public var sideEffect: String?
    /// "layer L chosen on <stage>: <rule>" when the layer was selected on a validation sweep.
    public var selection: String?
    public var rows: [Row]

    /// The rows without a system prompt: the steering conditions.
    var steering: [Row] { rows.filter { $0.systemPrompt == "none" } }

    /// A steered row's paired difference from the unsteered row of its behaviour and layer in the same stage (the same
    /// items, multiplier 0, no system prompt); nil for unsteered rows and rows without one.
    func differenceFromUnsteered(_ row: Row) -> MeanInterval? {
        guard row.systemPrompt == "none", row.multiplier != 0,
              let base = rows.first(where: { $0.behaviour == row.behaviour && $0.layer == row.layer && $0.multiplier == 0 && $0.systemPrompt == "none" })
        else { return nil }
        return MeanInterval.pairedDifference(row.items, base.items)
    }
}

extension ReportModel {
    /// The `caa_open_ended` stages (their cells' metrics and outputs are shown as stored).
    static func caaOpenEndedStages(_ stages: [StoredStage]) -> [StoredStage] {
        stages.filter { $0.kind == .caaOpenEnded && !$0.cells.isEmpty }
    }

    /// Every `caa_ab_sweep` stage's cells (malformed metrics name the stage and cell).
    static func caaSweeps(_ stages: [StoredStage]) throws -> [CAASweepResult] {
        try stages.filter { $0.kind == .caaABSweep && !$0.cells.isEmpty }.map { stage in
            let rows = try stage.cells.map { cell -> CAASweepResult.Row in
                func metric(_ name: String) throws -> Double {
                    guard let v = cell.metrics[try StageOutputs.metric(name, of: .caaABSweep)] else {
                        throw StoreError("report: stage \(stage.stageID) cell \(cell.index) has no metric \(name)")
                    }
                    return v
                }
                return CAASweepResult.Row(
                    behaviour: cell.outputs["behaviour"]?.stringValue ?? "?", systemPrompt: cell.outputs["system_prompt"]?.stringValue ?? "none",
                    layer: Int(try metric("layer")), multiplier: cell.outputs["multiplier"]?.doubleValue ?? 0,
                    pMatching: try metric("p_matching"), low: try metric("ci_low"), high: try metric("ci_high"),
                    accuracy: cell.metrics["accuracy"], abMass: cell.metrics["ab_mass"], n: Int(try metric("n")), excluded: Int(try metric("excluded")),
                    items: Dictionary((cell.outputs["items"]?.arrayValue ?? []).compactMap { i in
                        i["item"]?.intValue.flatMap { item in i["p"]?.doubleValue.map { (item, $0) } }
                    }, uniquingKeysWith: { a, _ in a }))
            }
            let first = stage.cells.first
            let selection = first?.outputs["selection"].flatMap { s -> String? in
                guard let layer = s["layer"]?.intValue else { return nil }
                return "Layer \(layer) chosen on \(s["input"]?.stringValue ?? "?"): \(s["rule"]?.stringValue ?? "")."
            }
            return CAASweepResult(stageID: stage.stageID, sideEffect: first?.outputs["side_effect"]?.stringValue, selection: selection, rows: rows)
        }
    }

    /// CAA's figures and tables: P(matching) vs layer (one line per behaviour and multiplier sign, as CAA's per-layer
    /// figure), P(matching) vs multiplier at one layer (one line per behaviour), the prompting baseline beside them,
    /// and the side effects' accuracy.
    func caaSection() -> ReportSection {
        var tables: [ReportTable] = [], figures: [ReportFigure] = [], paragraphs: [String] = []
        let probability = PlotAxis(low: 0, high: 1, step: 0.2)
        for sweep in caa {
            let id = "caa-" + Self.fileSafe(sweep.stageID)
            if let selection = sweep.selection { paragraphs.append("\(sweep.stageID): \(selection)") }
            let steering = sweep.steering, behaviours = Self.ordered(steering.map(\.behaviour))
            let layers = Set(steering.map(\.layer)), multipliers = Set(steering.map(\.multiplier))
            let measure = sweep.sideEffect == nil ? "P(matching)" : "P(correct) on \(sweep.sideEffect!)"
            if sweep.sideEffect == nil, layers.count > 1 {
                var series: [LineSeries] = []
                for b in behaviours {
                    for m in multipliers.sorted(by: >) where m != 0 {
                        let points = steering.filter { $0.behaviour == b && $0.multiplier == m }.sorted { $0.layer < $1.layer }
                        series.append(LineSeries(name: "\(b) ×\(ReportNumber.trimmed(m))", points: points.map { (Double($0.layer), $0.pMatching) }, dashed: m < 0))
                    }
                }
                let plot = LineChartPlot(title: "\(measure) vs layer — \(sweep.stageID)", xLabel: "layer", yLabel: measure, series: series, yAxis: probability)
                figures.append(ReportFigure(id: id + "-layers", caption: "\(measure) per layer, one line per behaviour and multiplier (dashed: negative), \(sweep.stageID)",
                                            svg: plot.svg()))
            } else if multipliers.count > 1 {
                let series = behaviours.map { b in
                    LineSeries(name: b, points: steering.filter { $0.behaviour == b }.sorted { $0.multiplier < $1.multiplier }.map { ($0.multiplier, $0.pMatching) })
                }
                let layer = layers.count == 1 ? " at layer \(layers.first!)" : ""
                let plot = LineChartPlot(title: "\(measure) vs multiplier\(layer) — \(sweep.stageID)", xLabel: "multiplier", yLabel: measure,
                                         series: series, yAxis: probability)
                figures.append(ReportFigure(id: id + "-multipliers", caption: "\(measure) per multiplier\(layer), one line per behaviour, \(sweep.stageID)",
                                            svg: plot.svg()))
            }
            // Δ vs unsteered only where the stage has an unsteered cell to pair with.
            let paired = sweep.rows.contains { sweep.differenceFromUnsteered($0) != nil }
            var columns = ["behaviour", "system prompt", "layer", "multiplier", measure, "95% CI", "accuracy %", "P(A)+P(B)", "n", "excluded"]
            if paired { columns.insert(contentsOf: ["Δ vs unsteered", "Δ 95% CI (paired)"], at: 6) }
            let rows = sweep.rows.map { r -> [String] in
                var row = [r.behaviour, r.systemPrompt, String(r.layer), ReportNumber.trimmed(r.multiplier), ReportNumber.fixed(r.pMatching, 3),
                           "\(ReportNumber.fixed(r.low, 3))–\(ReportNumber.fixed(r.high, 3))", r.accuracy.map { ReportNumber.percent(100 * $0) } ?? Self.none,
                           r.abMass.map { ReportNumber.fixed($0, 3) } ?? Self.none, String(r.n), String(r.excluded)]
                if paired {
                    let d = sweep.differenceFromUnsteered(r)
                    row.insert(contentsOf: [d.map { ReportNumber.signed($0.mean, 3) + ($0.excludesZero ? " *" : "") } ?? Self.none,
                                            d.map { "\(ReportNumber.signed($0.low, 3))–\(ReportNumber.signed($0.high, 3))" } ?? Self.none], at: 6)
                }
                return row
            }
            tables.append(ReportTable(
                id: id, title: (sweep.sideEffect.map { "Side effect on \($0)" } ?? "CAA A/B") + " — \(sweep.stageID)", columns: columns,
                numeric: [false, false] + [Bool](repeating: true, count: columns.count - 2), rows: rows,
                note: "\(measure): mean over items of P(matching) / (P(A) + P(B)) after `… [/INST] (`; 95% CI: mean ± 1.96 standard errors "
                    + "over items; accuracy: items whose matching (correct) letter is the likelier; system prompt pos/neg: the prompting "
                    + "baseline; multiplier 0: unsteered; excluded: items answering other than (A)/(B)."
                    + (paired ? " Δ vs unsteered: mean over the same items of the steered minus the unsteered value, 95% CI ± 1.96 "
                        + "standard errors of the differences (* when it leaves out 0)." : "")))
        }
        for stage in caaOpenEnded {
            let columns = ["behaviour", "system prompt", "layer", "multiplier", "n", "distinct-2", "repeated-2", "mean tokens", "KL(base ‖ steered)"]
            let rows = stage.cells.map { cell -> [String] in
                func number(_ name: String, _ digits: Int) -> String { cell.metrics[name].map { ReportNumber.fixed($0, digits) } ?? Self.none }
                return [cell.outputs["behaviour"]?.stringValue ?? "?", cell.outputs["system_prompt"]?.stringValue ?? "none",
                        cell.outputs["layer"]?.intValue.map(String.init) ?? Self.none,
                        cell.outputs["multiplier"]?.doubleValue.map { ReportNumber.trimmed($0) } ?? Self.none,
                        number("n", 0), number("distinct_2", 3), number("repeated_2", 3), number("mean_tokens", 1), number("kl_neutral", 4)]
            }
            tables.append(ReportTable(
                id: "caa-" + Self.fileSafe(stage.stageID), title: "Open-ended answers — \(stage.stageID)", columns: columns,
                numeric: [false, false] + [Bool](repeating: true, count: columns.count - 2), rows: rows,
                note: "distinct-2: distinct word bigrams ÷ bigrams, mean over answers (repeated-2 = 1 − distinct-2); KL: mean over "
                    + "positions of neutral text of KL(base ‖ steered) in nats, steered at every position; the answers are in the store."))
        }
        tables += caaConditionalTables()
        return ReportSection(title: "Contrastive Activation Addition (A/B)", paragraphs: paragraphs, tables: tables, figures: figures)
    }

    /// Names in order of first appearance.
    static func ordered(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
