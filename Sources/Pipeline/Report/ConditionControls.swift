import Experiments

/// The control columns of a conditions table: KL(base ‖ condition) on neutral text and the degeneration of the
/// generations, each shown only when some condition of the table stored it (so a report of conditions without
/// controls is unchanged). Prompted conditions (a system prompt asking for the behaviour) are rows of their own.
struct ConditionControls {
    static let metrics: [(name: String, column: String, digits: Int)] = [
        ("kl_neutral", "KL vs base on neutral text (nats)", 4),
        ("distinct_1_pct", "distinct-1 %", 1),
        ("distinct_2_pct", "distinct-2 %", 1),
    ]

    let shown: [(name: String, column: String, digits: Int)]

    init(_ table: ConditionTable) {
        shown = Self.metrics.filter { m in table.rows.contains { $0.controls[m.name] != nil } }
    }

    var columns: [String] { shown.map(\.column) }

    func cells(_ row: ConditionResult) -> [String] {
        shown.map { m in row.controls[m.name].map { ReportNumber.fixed($0, m.digits) } ?? ReportModel.none }
    }

    /// The stored control metrics of an evaluate cell.
    static func read(_ m: StoredMetrics) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for metric in metrics { if let v = try m[metric.name] { out[metric.name] = v } }
        return out
    }
}
