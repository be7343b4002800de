import Foundation

/// Output formats of `reptune results` and `reptune query`.
public enum TableFormat: String, Sendable, CaseIterable {
    case table, csv, json, md
}

/// The stored cells of one stage of a run, as `reptune results --stage ID` shows them: one row per cell with its
/// coordinates, status, metrics, outputs and artifact digests. Deterministic: equal results render byte-identically.
public struct StageResults: Sendable {
    public var stageID: String
    public var key: String
    public var cells: [CellRecord]

    /// The cells of `stageID` in the latest run that included it (or in run `runID`).
    public static func load(_ store: Store, stageID: String, runID: Int? = nil) throws -> StageResults {
        let runs = try store.runs().filter { runID == nil || $0.id == runID }
        for run in runs.reversed() {
            if let s = try store.runStages(run.id).first(where: { $0.stageID == stageID }) {
                return StageResults(stageID: stageID, key: s.key, cells: try store.cells(s.key))
            }
        }
        let known = Set(try runs.flatMap { try store.runStages($0.id).map(\.stageID) })
        let hint = NearMiss.suggestion(for: stageID, in: Array(known)).map { "; \($0)" } ?? ""
        throw StoreError("no stage \"\(stageID)\" in the runs of \(store.directory.path) (stages: \(known.sorted().joined(separator: ", ")))\(hint)")
    }

    /// Columns: cell, each coordinate axis, status, each metric (sorted), outputs, artifacts, error.
    public var table: (columns: [String], rows: [[String]]) {
        var axes: [String] = []
        for c in cells { for m in c.coordinates.objectValue ?? [] where !axes.contains(m.key) { axes.append(m.key) } }
        let metrics = Set(cells.flatMap { $0.metrics.keys }).sorted()
        let columns = ["cell"] + axes + ["status"] + metrics + ["outputs", "artifacts", "error"]
        let rows = cells.map { c -> [String] in
            var row = [String(c.index)]
            row += axes.map { a in c.coordinates[a].map(CanonicalJSON.encode) ?? "" }
            row.append(c.status.rawValue)
            row += metrics.map { m in c.metrics[m].map { $0.isFinite ? JSONNumber($0).canonical : "nan" } ?? "" }
            row.append(c.outputs.objectValue?.isEmpty == false ? CanonicalJSON.encode(c.outputs) : "")
            row.append(c.artifacts.keys.sorted().map { "\($0)=\(c.artifacts[$0]!.sha256)" }.joined(separator: " "))
            row.append(c.error ?? "")
            return row
        }
        return (columns, rows)
    }

    public func render(_ format: TableFormat) -> String {
        switch format {
        case .json:
            let items = cells.map { c -> String in
                CanonicalJSON.encode(.object([
                    "cell": .int(c.index), "coordinates": c.coordinates, "status": .string(c.status.rawValue),
                    "metrics": .object(c.metrics.keys.sorted().map { JSONMember(key: $0, value: c.metrics[$0]!.isFinite ? .double(c.metrics[$0]!) : .null) }),
                    "outputs": c.outputs,
                    "artifacts": .object(c.artifacts.keys.sorted().map { JSONMember(key: $0, value: .string(c.artifacts[$0]!.sha256)) }),
                    "error": c.error.map(JSONValue.string) ?? .null,
                ]))
            }
            return "[\n" + items.map { "  " + $0 }.joined(separator: ",\n") + "\n]\n"
        default:
            let t = table
            return TextTable.render(columns: t.columns, rows: t.rows, format: format)
        }
    }
}

/// Renders rows as an aligned text table, CSV (RFC 4180 quoting), Markdown, or JSON (array of objects).
public enum TextTable {
    public static func render(columns: [String], rows: [[String]], format: TableFormat) -> String {
        switch format {
        case .csv:
            func field(_ s: String) -> String {
                s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
            }
            return ([columns] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .md:
            func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
            var out = "| " + columns.map(cell).joined(separator: " | ") + " |\n"
            out += "|" + columns.map { _ in "---|" }.joined() + "\n"
            for r in rows { out += "| " + r.map(cell).joined(separator: " | ") + " |\n" }
            return out
        case .json:
            let items = rows.map { r in
                CanonicalJSON.encode(.object(zip(columns, r).map { JSONMember(key: $0.0, value: .string($0.1)) }))
            }
            return "[\n" + items.map { "  " + $0 }.joined(separator: ",\n") + "\n]\n"
        case .table:
            func shown(_ s: String) -> String {
                let one = s.replacingOccurrences(of: "\n", with: "⏎")
                return one.count > 60 ? String(one.prefix(59)) + "…" : one
            }
            let shownRows = rows.map { $0.map(shown) }
            let widths = columns.indices.map { i in max(columns[i].count, shownRows.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0) }
            func line(_ r: [String]) -> String {
                r.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            }
            return ([line(columns), line(widths.map { String(repeating: "-", count: $0) })] + shownRows.map(line)).joined(separator: "\n") + "\n"
        }
    }
}
