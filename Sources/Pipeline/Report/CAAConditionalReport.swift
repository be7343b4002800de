import Experiments

extension ReportModel {
    /// The `caa_conditional` stages (their cells' metrics and outputs are shown as stored).
    static func caaConditionalStages(_ stages: [StoredStage]) -> [StoredStage] {
        stages.filter { $0.kind == .caaConditional && !$0.cells.isEmpty }
    }

    /// Conditional steering (CAST): per condition block, the threshold chosen on the validation split, how often
    /// each labelled set was steered on both splits, and P(matching) on the held-out split unsteered, under the
    /// condition and always steered, with steering's effect on the prompts steered and on those held back; with
    /// open-ended sets, how often their questions were answered steered.
    func caaConditionalTables() -> [ReportTable] {
        caaConditional.map { stage in
            let openEnded = stage.cells.contains { $0.metrics["open_n_should"] != nil || $0.metrics["open_n_should_not"] != nil }
            var columns = ["condition block", "condition", "threshold", "validation score", "steered % val (should / not)",
                           "steered % test (should / not)", "should: unsteered / conditional / always", "not: unsteered / conditional / always",
                           "effect steered (n)", "effect held back (n)"]
            if openEnded { columns.append("steered % open-ended (should / not)") }
            let rows = stage.cells.map { cell -> [String] in
                func number(_ name: String, _ digits: Int = 3) -> String { cell.metrics[name].map { ReportNumber.fixed($0, digits) } ?? Self.none }
                func percent(_ name: String) -> String { cell.metrics[name].map { ReportNumber.percent(100 * $0) } ?? Self.none }
                let condition = cell.outputs["condition"]
                let row = [number("condition_layer", 0),
                        "\(condition?["vector"]?.stringValue ?? "?") \(condition?["comparator"]?.stringValue ?? "")",
                        number("threshold"), "\(number("validation_score")) (\(condition?["select_by"]?.stringValue ?? "?"))",
                        "\(percent("val_steer_rate_should")) / \(percent("val_steer_rate_should_not"))",
                        "\(percent("test_steer_rate_should")) / \(percent("test_steer_rate_should_not"))",
                        "\(number("p_unsteered_should")) / \(number("p_conditional_should")) / \(number("p_always_steered_should"))",
                        "\(number("p_unsteered_should_not")) / \(number("p_conditional_should_not")) / \(number("p_always_steered_should_not"))",
                        "\(number("effect_steered")) (\(number("n_steered", 0)))", "\(number("effect_held_back")) (\(number("n_held_back", 0)))"]
                return openEnded ? row + ["\(percent("open_steer_rate_should")) / \(percent("open_steer_rate_should_not"))"] : row
            }
            let steer = stage.cells.first?.outputs["steer"]?.arrayValue?.map { e in
                "\(e["vector"]?.stringValue ?? "?") at \(e["layers"]?.arrayValue?.compactMap(\.intValue).map(String.init).joined(separator: ",") ?? "?")"
                    + " ×\(e["multiplier"]?.doubleValue.map { ReportNumber.trimmed($0) } ?? "?")"
            }.joined(separator: " + ") ?? "?"
            return ReportTable(
                id: "caa-" + Self.fileSafe(stage.stageID), title: "Conditional steering (CAST) — \(stage.stageID)", columns: columns,
                numeric: [true, false] + [Bool](repeating: true, count: columns.count - 2), rows: rows,
                note: "Steering \(steer) added only to prompts whose mean residual at the condition block has cosine ≥ (or ≤) the threshold "
                    + "with the condition vector (a behaviour's, or the mean difference of the two sets on the validation split); the "
                    + "threshold is the validation split's best of the grid and is applied unchanged to the held-out split. P(matching): "
                    + "each item's own behaviour, over P(A) + P(B), held-out split. Effect: mean P(steered) − P(unsteered) over the "
                    + "held-out prompts the condition steered, and over those it held back (what steering would have done there)."
                    + (openEnded ? " Open-ended: questions answered steered under the same condition and threshold (answers stored as generations)." : ""))
        }
    }
}
