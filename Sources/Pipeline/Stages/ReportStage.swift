import Foundation
import Experiments

extension StageRunner {
    /// The `report` stage: renders the stages its `from` input names into `<results>/report/` in the formats of
    /// its `formats` parameter (see `ReportFormat`), and commits one cell with outputs `{"directory": "report"}`
    /// and metrics `files`, `tables`, `figures`. The files depend only on the input stages' stored results and the
    /// parameters (no run status, no clock), as a cached stage's output should.
    public static var report: StageRunner {
        .perCell { context, _ in
            let formatNames = context.params["formats"]?.arrayValue?.compactMap(\.stringValue) ?? ["md"]
            let formats = Set(try formatNames.map { name in
                do { return try ReportFormat.parse(name) } catch { throw ReportError("stage \"\(context.stage.id)\" params.formats: \(error)") }
            })
            let stages = try (context.inputs["from"] ?? []).map { try StoredStage.load(context.store, key: $0.key, stageID: $0.stageID) }
            let runName = try context.store.latestRun()?.name
            let title = context.params["title"]?.stringValue ?? runName.map { "\($0) — results" } ?? "reptune report"
            let document = try ReportGenerator.document(stages: stages, title: title)
            let directory = "report"
            let files = try ReportWriter.write(document, formats: formats, to: context.store.directory.appendingPathComponent(directory))
            context.log("report: \(files.count) files in \(directory)/")
            return CellResult(metrics: ["files": Double(files.count), "tables": Double(document.tables.count),
                                        "figures": Double(document.figures.count)],
                              outputs: .object(["directory": .string(directory)]))
        }
    }
}
