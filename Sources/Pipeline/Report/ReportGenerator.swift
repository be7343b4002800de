import Foundation
import Experiments

/// Writes reports: `reptune report` (the latest run of a results directory) and the `report` stage (the stages
/// its `from` input names) both come here.
public enum ReportGenerator {
    /// The formats written when none are asked for.
    public static let defaultFormats: Set<ReportFormat> = [.md, .csv, .html, .svg]

    /// The lines under the title: which run, whether its stages are complete, and how many cells each has done —
    /// from the store only (no clock). A run that was interrupted but whose stages later runs finished says so:
    /// its results are complete even though the run itself did not end.
    static func preamble(run: RunRecord?, stages: [StoredStage]) -> [String] {
        var lines: [String] = []
        if let run {
            let complete = stages.filter(\.isComplete).count
            let state: String
            if run.status == WorkStatus.done.rawValue || stages.isEmpty {
                state = run.status
            } else if complete == stages.count {
                state = "\(run.status); every cell of its \(stages.count) stages is done in the store"
            } else {
                state = "\(run.status); \(complete) of its \(stages.count) stages complete"
            }
            lines.append("Run \(run.id) of manifest \"\(run.name)\" (\(state)).")
        }
        let listed = stages.map { s in
            "\(s.stageID) (\(s.kind?.rawValue ?? "?"), \(s.cells.count)/\(s.cellsTotal) cell\(s.cellsTotal == 1 ? "" : "s") done)"
        }
        lines.append("Stages: " + (listed.isEmpty ? "none" : listed.joined(separator: ", ")) + ".")
        return lines
    }

    /// The report document of run `runID` (default: the latest) of `store`.
    public static func document(_ store: Store, runID: Int? = nil, title: String? = nil) throws -> ReportDocument {
        let (run, stages) = try ReportSources.run(store, runID: runID)
        return try ReportModel.assemble(stages, title: title ?? "\(run.name) — results", preamble: preamble(run: run, stages: stages)).document()
    }

    /// The report document of the given stages.
    public static func document(stages: [StoredStage], title: String, run: RunRecord? = nil) throws -> ReportDocument {
        try ReportModel.assemble(stages, title: title, preamble: preamble(run: run, stages: stages)).document()
    }

    /// Writes the report of the latest run (or run `runID`) of the results directory `directory` into `output`
    /// (default `directory/report`); returns the files written, sorted.
    @discardableResult
    public static func write(resultsDirectory directory: URL, formats: Set<ReportFormat> = defaultFormats, output: URL? = nil,
                             title: String? = nil, runID: Int? = nil) throws -> [URL] {
        let store = try Store(readOnlyDirectory: directory)
        let document = try document(store, runID: runID, title: title)
        return try ReportWriter.write(document, formats: formats, to: output ?? directory.appendingPathComponent("report"))
    }
}
