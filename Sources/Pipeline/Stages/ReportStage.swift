import Foundation
import Experiments

extension StageRunner {
    /// The `report` stage: renders the stages its `from` input names into `<results>/report/` in the formats of
    /// its `formats` parameter (see `ReportFormat`), and commits one cell with outputs `{"directory": "report"}`
    /// and metrics `files`, `tables`, `figures`. The files depend only on the input stages' stored results and the
    /// parameters (no run status, no clock), as a cached stage's output should.
    public static var report: StageRunner {
        .perCell { context, _ in
            let p = try context.decodeParams(ReportParams.self)
            let formats = Set(try p.formats.map { name in
                do { return try ReportFormat.parse(name) } catch { throw ReportError("stage \"\(context.stage.id)\" params.formats: \(error)") }
            })
            let stages = try (context.inputs["from"] ?? []).map { try StoredStage.load(context.store, key: $0.key, stageID: $0.stageID) }
            let runName = try context.store.latestRun()?.name
            let title = p.title ?? runName.map { "\($0) — results" } ?? "reptune report"
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

extension StageKind {
    public static let report = StageKind(declaring: "report")
}

extension StageDeclaration {
    /// Tables and plots of other stages' stored results.
    public static let report = StageDeclaration(
        StageKindSpec(
            .report,
            summary: "Tables and plots from the outputs of other stages.",
            params: [
                ParamSpec("formats", .list(.choice(["md", "csv", "tex", "html", "svg", "json"])), .defaulted(.array([.string("md")])),
                          doc: "Files written."),
                ParamSpec("title", .string, .optional, doc: "Report title; absent = the manifest name."),
            ],
            inputs: [
                InputSpec("from", accepts: [], many: true, required: true, doc: "Stages reported on."),
            ]),
        version: 1,
        params: ReportParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("files", "count", "Files written."),
                .init("tables", "count", "Tables in the report."),
                .init("figures", "count", "Figures in the report."),
            ],
            notes: "One cell. Outputs `{\"directory\": \"report\"}` relative to the results directory."),
        sources: ["Pipeline/Stages/ReportStage.swift", "Pipeline/Report", "Experiments/Reports", "Experiments/Statistics"],
        runner: .report)
}

/// The parameters of `report` (defaults and docs: its declaration).
struct ReportParams: Decodable {
    var formats: [String]
    var title: String?
}
