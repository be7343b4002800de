import Experiments

/// One `actadd_topic` stage as the report shows it: the unsteered baseline and every layer × coefficient cell with
/// its topic-word frequency (95% intervals), degeneration and perplexity ratios.
public struct ActAddTopicResult: Sendable {
    /// One cell (the baseline has no layer and coefficient).
    public struct Cell: Sendable {
        public var layer: Int?
        public var coefficient: Double?
        public var metrics: [String: Double]
        /// Perplexity ratio by keyword-density bin: (low, high, documents, ratio).
        public var bins: [(low: Double, high: Double, documents: Int, ratio: Double?)]
    }

    public var stageID: String
    /// `" weddings" − ""` and the first-position setting (`after <|endoftext|>` or `on the prompt's first token`).
    public var pair: String
    public var setting: String
    public var baseline: Cell?
    public var cells: [Cell]
}

extension ReportModel {
    static func actAddTopics(_ stages: [StoredStage]) throws -> [ActAddTopicResult] {
        try stages.filter { $0.kind == .actAddTopic }.compactMap { stage in
            var baseline: ActAddTopicResult.Cell?
            var cells: [ActAddTopicResult.Cell] = []
            for cell in stage.cells {
                let m = StoredMetrics(cell, kind: .actAddTopic)
                var metrics: [String: Double] = [:]
                for item in StageDeclaration.actAddTopic.outputs.metrics { if let v = try m[item.name] { metrics[item.name] = v } }
                let bins = try (cell.outputs["relatedness_bins"]?.arrayValue ?? []).enumerated().map { i, b in
                    guard let low = b["low"]?.doubleValue, let high = b["high"]?.doubleValue, let documents = b["documents"]?.intValue else {
                        throw ReportError("stage \"\(stage.stageID)\" cell \(cell.index) outputs.relatedness_bins[\(i)]: expected low, high and documents")
                    }
                    return (low: low, high: high, documents: documents, ratio: b["ppl_ratio"]?.doubleValue)
                }
                let entry = ActAddTopicResult.Cell(layer: cell.coordinates["layer"]?.intValue, coefficient: cell.coordinates["coefficient"]?.doubleValue,
                                                   metrics: metrics, bins: bins)
                if cell.coordinates["baseline"]?.boolValue == true { baseline = entry } else if entry.layer != nil, entry.coefficient != nil { cells.append(entry) }
            }
            guard baseline != nil || !cells.isEmpty else { return nil }
            let plus = stage.params["plus"]?.stringValue ?? "?", minus = stage.params["minus"]?.stringValue ?? ""
            let setting = stage.params["leading_token"]?.stringValue.map { "after \($0)" } ?? "on the prompt's first token"
            return ActAddTopicResult(stageID: stage.stageID, pair: "\"\(plus)\" − \"\(minus)\"", setting: setting, baseline: baseline,
                                     cells: cells.sorted { ($0.layer!, $0.coefficient!) < ($1.layer!, $1.coefficient!) })
        }
    }

    /// The ActAdd section: a table per stage, the relatedness bins, and topic words per completion vs coefficient
    /// with one line per stage (first-position setting) and layer, each starting from its unsteered baseline at 0.
    func actAddSection() -> ReportSection {
        var tables: [ReportTable] = []
        var series: [LineSeries] = []
        func value(_ cell: ActAddTopicResult.Cell, _ name: String, _ format: (Double) -> String) -> String {
            cell.metrics[name].map(format) ?? Self.none
        }
        func interval(_ cell: ActAddTopicResult.Cell, _ low: String, _ high: String, _ format: (Double) -> String) -> String {
            guard let l = cell.metrics[low], let h = cell.metrics[high] else { return Self.none }
            return "\(format(l))–\(format(h))"
        }
        let columns = ["layer", "coefficient", "samples", "topic words / completion", "95% CI", "completions with a topic word %",
                       "Wilson 95% CI", "distinct-2 %", "ppl ratio on-topic", "ppl ratio off-topic"]
        var binRows: [[String]] = []
        for result in actAddTopics {
            let rows = (result.baseline.map { [$0] } ?? []) + result.cells
            tables.append(ReportTable(
                id: "actadd-" + Self.fileSafe(result.stageID),
                title: "ActAdd \(result.pair), injected \(result.setting) — \(result.stageID)", columns: columns,
                numeric: [Bool](repeating: true, count: columns.count),
                rows: rows.map { c in
                    [c.layer.map(String.init) ?? "unsteered", c.coefficient.map { ReportNumber.trimmed($0) } ?? Self.none,
                     value(c, "samples", ReportNumber.count), value(c, "topic_words_mean") { ReportNumber.fixed($0, 3) },
                     interval(c, "topic_words_ci_low", "topic_words_ci_high") { ReportNumber.fixed($0, 3) },
                     value(c, "topic_share_pct", ReportNumber.percent), interval(c, "topic_share_ci_low", "topic_share_ci_high", ReportNumber.percent),
                     value(c, "distinct_2_pct", ReportNumber.percent), value(c, "ppl_ratio_on_topic") { ReportNumber.fixed($0, 4) },
                     value(c, "ppl_ratio_off_topic") { ReportNumber.fixed($0, 4) }]
                },
                note: "Topic words counted as FORMAT.md's rule (lowercase, \\W → space, exact matches). 95% CI of the mean: "
                    + "mean ± 1.96·s/√n; share: Wilson. Every cell samples with the same seeds as the unsteered row. Perplexity "
                    + "ratio = steered ÷ unsteered perplexity of the text's sentences, tokens after the steered positions."))
            for c in result.cells {
                for b in c.bins {
                    binRows.append([result.stageID, String(c.layer ?? 0), ReportNumber.trimmed(c.coefficient ?? 0),
                                    "\(ReportNumber.trimmed(b.low))–\(ReportNumber.trimmed(b.high))", String(b.documents),
                                    b.ratio.map { ReportNumber.fixed($0, 4) } ?? Self.none])
                }
            }
            let base = result.baseline?.metrics["topic_words_mean"]
            for layer in Array(Set(result.cells.compactMap(\.layer))).sorted() {
                let points = result.cells.filter { $0.layer == layer }.map { (x: $0.coefficient!, y: $0.metrics["topic_words_mean"]) }
                let name = (actAddTopics.count > 1 ? "\(result.stageID) " : "") + "L\(layer)"
                series.append(LineSeries(name: name, points: (base.map { [(x: 0.0, y: Optional($0))] } ?? []) + points,
                                         dashed: result.setting.hasPrefix("on the")))
            }
        }
        if !binRows.isEmpty {
            tables.append(ReportTable(id: "actadd-relatedness", title: "ActAdd perplexity ratio by topic-keyword density",
                                      columns: ["stage", "layer", "coefficient", "keyword density", "documents", "ppl ratio"],
                                      numeric: [false, true, true, false, true, true], rows: binRows,
                                      note: "Density = topic words ÷ words (whitespace split); ratio = steered ÷ unsteered perplexity."))
        }
        let plot = LineChartPlot(title: "ActAdd: topic words per completion vs coefficient", xLabel: "coefficient",
                                 yLabel: "topic words per completion", series: series)
        return ReportSection(title: "ActAdd topic steering", paragraphs: [
            "Each line is one steered layer (dashed: the injection lands on the prompt's first token; solid: after a leading "
                + "neutral token); coefficient 0 is the unsteered baseline of the same stage.",
        ], tables: tables, figures: [ReportFigure(id: "actadd-topic-words", caption: "Topic words per completion vs coefficient", svg: plot.svg())])
    }
}
