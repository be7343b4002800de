import Experiments

extension ReportModel {
    /// Marker for a cell with nothing to show (no base to compare with, no paired items, no metric).
    public static let none = "–"

    static let taskTitles = ["facts": "True/false facts (GPT-4 facts)", "tqa": "TruthfulQA misconceptions", "ab_questions": "A/B questions"]

    /// The report as tables and SVG figures, in a fixed order: conditions per task, sweeps, vectors, perplexity,
    /// tuning, judging. Sections without data are left out.
    public func document() throws -> ReportDocument {
        var sections: [ReportSection] = []
        for table in conditions { sections.append(conditionSection(table)) }
        if !sweeps.isEmpty { sections.append(sweepSection()) }
        if !vectors.isEmpty { sections.append(vectorSection()) }
        if !perplexity.isEmpty { sections.append(perplexitySection()) }
        if !tunes.isEmpty { sections.append(try tuneSection()) }
        if !judges.isEmpty { sections.append(try judgeSection()) }
        if !actAddTopics.isEmpty { sections.append(actAddSection()) }
        if !caa.isEmpty || !caaOpenEnded.isEmpty || !caaConditional.isEmpty { sections.append(caaSection()) }
        return ReportDocument(title: title, preamble: preamble, sections: sections)
    }

    func conditionSection(_ table: ConditionTable) -> ReportSection {
        let columns = ["condition", "variant", "n", "honest %", "honest 95% CI", "dishonest %", "dishonest 95% CI", "unparseable %",
                       "Δ honest (pp)", "p honest (z)", "p honest (McNemar)", "Δ dishonest (pp)", "p dishonest (z)",
                       "p dishonest (McNemar)", "paired items"]
        // The logit-based score is shown only when some condition stored it.
        let logit = table.rows.contains { $0.logitHonestPercent != nil }
        // So are the controls (KL on neutral text, degeneration).
        let controls = ConditionControls(table)
        func ci(_ w: WilsonInterval) -> String { "\(ReportNumber.percent(100 * w.lower))–\(ReportNumber.percent(100 * w.upper))" }
        func signed(_ d: Double) -> String { (d > 0 ? "+" : "") + ReportNumber.percent(d) }
        let rows = table.rows.map { r -> [String] in
            var row = [r.label, r.variant, String(r.n), ReportNumber.percent(r.honestPercent), ci(r.honestInterval),
                       ReportNumber.percent(r.dishonestPercent), ci(r.dishonestInterval), ReportNumber.percent(r.unparseablePercent)]
            if let c = r.versusBase {
                row += [signed(c.honestDifference), c.honestZ.map { ReportNumber.pValue($0.p) } ?? Self.none,
                        c.honestMcNemar.map { ReportNumber.pValue($0.exactP) } ?? Self.none,
                        signed(c.dishonestDifference), c.dishonestZ.map { ReportNumber.pValue($0.p) } ?? Self.none,
                        c.dishonestMcNemar.map { ReportNumber.pValue($0.exactP) } ?? Self.none,
                        c.pairedItems > 0 ? String(c.pairedItems) : Self.none]
            } else {
                row += [r.isBase ? "base" : Self.none] + [String](repeating: Self.none, count: 6)
            }
            if logit { row.append(r.logitHonestPercent.map(ReportNumber.percent) ?? Self.none) }
            return row + controls.cells(r)
        }
        let allColumns = columns + (logit ? ["logit honest %"] : []) + controls.columns
        let baseNote = table.base.map { "Compared with the base condition \($0.label): two-proportion z-test (two-sided) and McNemar's exact test on the items both answered." }
            ?? "No base-variant condition: no comparisons."
        let reportTable = ReportTable(id: table.id, title: "Conditions" + (table.dataset.map { " on dataset \($0)" } ?? ""),
                                      columns: allColumns, numeric: [false, false] + [Bool](repeating: true, count: allColumns.count - 2),
                                      rows: rows, note: "Percentages of n; 95% CIs are Wilson intervals. " + baseNote)
        // The paper's figures: honest % and dishonest % per condition.
        let honest = BarChartPlot(title: "Honest % per condition (\(table.task))", yLabel: "honest % (Wilson 95% CI)", bars: table.rows.map {
            BarChartBar(label: $0.label, value: $0.honestPercent, low: 100 * $0.honestInterval.lower, high: 100 * $0.honestInterval.upper)
        })
        let dishonest = BarChartPlot(title: "Dishonest % per condition (\(table.task))", yLabel: "dishonest % (Wilson 95% CI)",
                                     bars: table.rows.map {
            BarChartBar(label: $0.label, value: $0.dishonestPercent, low: 100 * $0.dishonestInterval.lower, high: 100 * $0.dishonestInterval.upper)
        }, colour: "#b2182b")
        return ReportSection(title: Self.taskTitles[table.task] ?? table.task, tables: [reportTable], figures: [
            ReportFigure(id: "\(table.id)-honest", caption: "Honest % per condition, \(table.task), with Wilson 95% intervals", svg: honest.svg()),
            ReportFigure(id: "\(table.id)-dishonest", caption: "Dishonest % per condition, \(table.task), with Wilson 95% intervals",
                         svg: dishonest.svg()),
        ])
    }

    func sweepSection() -> ReportSection {
        var tables: [ReportTable] = [], figures: [ReportFigure] = []
        for grid in sweeps {
            let id = "sweep-" + Self.fileSafe(grid.stageID)
            let hasZero = !grid.zeroOut.isEmpty
            let mLabels = grid.multipliers.map { ReportNumber.trimmed($0) }
            let columns = ["layer"] + mLabels.map { "×\($0)" } + (hasZero ? ["zero-out"] : [])
            let rows = grid.layers.enumerated().map { i, layer -> [String] in
                [String(layer)] + grid.honest[i].map { $0.map(ReportNumber.percent) ?? Self.none }
                    + (hasZero ? [grid.zeroOut[layer].map(ReportNumber.percent) ?? Self.none] : [])
            }
            tables.append(ReportTable(id: id, title: "Honest % by layer × multiplier — \(grid.stageID)" + (grid.task.map { " (\($0))" } ?? ""),
                                      columns: columns, numeric: [Bool](repeating: true, count: columns.count), rows: rows))
            let values = grid.layers.enumerated().map { i, layer in grid.honest[i] + (hasZero ? [grid.zeroOut[layer]] : []) }
            let panel = HeatmapPanel(title: "", rowLabels: grid.layers.map(String.init), columnLabels: mLabels + (hasZero ? ["zero-out"] : []),
                                     values: values)
            let plot = HeatmapPlot(title: "Honest % — \(grid.stageID)", xLabel: "multiplier", yLabel: "layer", panels: [panel],
                                   scale: .sequential(low: 0, high: 100), legendLabel: "honest %")
            figures.append(ReportFigure(id: id, caption: "Honest % over layer × multiplier, \(grid.stageID)", svg: plot.svg()))
        }
        return ReportSection(title: "Steering sweeps", tables: tables, figures: figures)
    }

    func vectorSection() -> ReportSection {
        var tables: [ReportTable] = []
        for v in vectors {
            let columns = ["layer", "AUROC", "explained variance", "norm", "lens +", "lens −"]
            let rows = v.layers.map { l -> [String] in
                [String(l.layer), l.auroc.map { ReportNumber.fixed($0, 4) } ?? Self.none,
                 l.explainedVariance.map { ReportNumber.fixed($0, 4) } ?? Self.none, l.norm.map { ReportNumber.fixed($0, 4) } ?? Self.none,
                 Self.tokens(l.lensPositive), Self.tokens(l.lensNegative)]
            }
            tables.append(ReportTable(id: "vectors-" + Self.fileSafe(v.stageID),
                                      title: "Vector diagnostics — \(v.stageID)" + (v.method.map { " (\($0))" } ?? ""), columns: columns,
                                      numeric: [true, true, true, true, false, false], rows: rows,
                                      note: "AUROC of honest vs dishonest projections; lens: top logit-lens tokens of +v and −v (first 5)."))
        }
        var series: [LineSeries] = []
        for v in vectors {
            let name = vectors.count > 1 ? "\(v.stageID) " : ""
            series.append(LineSeries(name: name + "AUROC", points: v.layers.map { (Double($0.layer), $0.auroc) }))
            if v.layers.contains(where: { $0.explainedVariance != nil }) {
                series.append(LineSeries(name: name + "explained variance", points: v.layers.map { (Double($0.layer), $0.explainedVariance) },
                                         dashed: true))
            }
        }
        let plot = LineChartPlot(title: "Vector separation per layer", xLabel: "layer", yLabel: "AUROC / explained variance",
                                 series: series, yAxis: PlotAxis(low: 0, high: 1, step: 0.2))
        return ReportSection(title: "Vectors", tables: tables,
                             figures: [ReportFigure(id: "vectors-auroc", caption: "AUROC (and explained variance) per layer", svg: plot.svg())])
    }

    /// The first five lens tokens, each quoted so that leading spaces (BPE word starts) stay visible.
    static func tokens(_ list: [String]) -> String {
        list.prefix(5).map { "\"" + $0.replacingOccurrences(of: "\n", with: "\\n") + "\"" }.joined(separator: " ")
    }

    func perplexitySection() -> ReportSection {
        let rows = perplexity.map {
            [$0.label, $0.variant, $0.perplexity.map { ReportNumber.fixed($0, 4) } ?? Self.none,
             $0.tokens.map(ReportNumber.count) ?? Self.none, $0.nll.map { ReportNumber.fixed($0, 2) } ?? Self.none]
        }
        return ReportSection(title: "Perplexity", tables: [
            ReportTable(id: "perplexity", title: "Perplexity per model variant", columns: ["stage", "variant", "perplexity", "tokens", "NLL (nats)"],
                        numeric: [false, false, true, true, true], rows: rows),
        ])
    }

    func tuneSection() throws -> ReportSection {
        let metricColumns = try ["steps", "final_train_loss", "final_validation_loss", "best_validation_loss", "seconds"].map {
            try StageOutputs.metric($0, of: .tune)
        }
        let rows = tunes.map { t in
            [t.label, t.objective ?? Self.none] + metricColumns.map { name in
                t.metrics[name].flatMap { $0.isFinite ? (name == "steps" ? ReportNumber.count($0) : ReportNumber.fixed($0, 4)) : nil } ?? Self.none
            }
        }
        var figures: [ReportFigure] = []
        for t in tunes {
            let id = "tune-\(Self.fileSafe(t.stageID))-\(t.cellIndex)"
            if !t.history.isEmpty {
                let plot = LineChartPlot(title: "Loss — \(t.label)", xLabel: "step", yLabel: "loss", series: [
                    LineSeries(name: "train", points: t.history.map { (Double($0.step), $0.train) }),
                    LineSeries(name: "validation", points: t.history.map { (Double($0.step), $0.validation) }, dashed: true),
                ])
                figures.append(ReportFigure(id: id + "-loss", caption: "Training and validation loss, \(t.label)", svg: plot.svg()))
            }
            if let map = t.cosineMap {
                let rowLabels = map.layers.map(String.init), columnLabels = map.positions.map(String.init)
                let plot = HeatmapPlot(title: "cos(residual, vector) — \(t.label)", xLabel: "position (from last prompt token)", yLabel: "layer",
                                       panels: [HeatmapPanel(title: "base", rowLabels: rowLabels, columnLabels: columnLabels, values: map.base),
                                                HeatmapPanel(title: "tuned", rowLabels: rowLabels, columnLabels: columnLabels, values: map.tuned)],
                                       scale: .diverging(low: -1, high: 1), legendLabel: "cosine", cellDecimals: 2)
                figures.append(ReportFigure(id: id + "-cosine", caption: "Cosine similarity with the vector, base vs tuned, \(t.label)",
                                            svg: plot.svg()))
            }
        }
        return ReportSection(title: "Representation tuning", tables: [
            ReportTable(id: "tune", title: "Tuning runs", columns: ["run", "objective", "steps", "final train loss", "final validation loss",
                                                                  "best validation loss", "seconds"],
                        numeric: [false, false, true, true, true, true, true], rows: rows),
        ], figures: figures)
    }

    /// Judge metrics shown first, in this order, when present; any others follow sorted by name.
    static let judgeColumns = ["n", "a_wins", "b_wins", "ties", "wilcoxon_p"]

    func judgeSection() throws -> ReportSection {
        let present = Set(judges.flatMap { $0.metrics.keys })
        let first = try Self.judgeColumns.map { try StageOutputs.metric($0, of: .judge) }
        let names = first.filter(present.contains) + present.subtracting(first).sorted()
        let rows = judges.map { j in
            [j.label] + names.map { name in
                j.metrics[name].flatMap { v -> String? in
                    guard v.isFinite else { return nil }
                    return name.hasSuffix("_p") || name == "p" ? ReportNumber.pValue(v) : ReportNumber.trimmed(v, 4)
                } ?? Self.none
            }
        }
        return ReportSection(title: "Judged open-ended answers", tables: [
            ReportTable(id: "judge", title: "Pairwise judgements", columns: ["judge"] + names,
                        numeric: [false] + names.map { _ in true }, rows: rows,
                        note: "A model wins an item only if it wins in both orders; otherwise a tie."),
        ])
    }
}
