import Foundation
import Testing
import Experiments
import Pipeline
import TestSupport

/// The report's ActAdd section and the honesty conditions' control columns from a store built by hand (docs/RESULTS.md):
/// the columns appear only when a condition stored the controls, a prompted condition is never the base, and the
/// topic plot has one line per layer and first-position setting starting from the stage's baseline.
@Suite struct ActAddReportTests {
    static func topicCell(_ mean: Double, ratio: Double?) -> CellResult {
        var m: [String: Double] = ["samples": 40, "topic_words_mean": mean, "topic_words_ci_low": mean / 2, "topic_words_ci_high": mean * 2,
                                   "topic_share_pct": 50, "topic_share_ci_low": 35, "topic_share_ci_high": 65, "distinct_2_pct": 96.5]
        if let ratio { m["ppl_ratio_on_topic"] = ratio; m["ppl_ratio_off_topic"] = ratio * 2 }
        return CellResult(metrics: m, outputs: .object(["label": .string("x")]))
    }

    @Test func actAddSectionAndControlColumns() throws {
        let dir = try Fixtures.temporaryDirectory("reptune-actadd-report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir)
        try store.db.run("INSERT INTO runs (manifest_name, base_directory, manifest_text, status, started_at) VALUES ('t', '/x', '{}', 'done', 1)")
        let facts = #"{"task": "facts", "dataset": "gpt4", "variant": "base"}"#
        let keys = [
            ("facts_base", try ReportFixture.stage(store, "facts_base", .evaluate, params: facts, cells: [([], ReportFixture.scored(
                ReportFixture.answers(0..<20, honest: 10, dishonest: 10), variant: "base", task: "facts"))])),
            ("prompted", try ReportFixture.stage(store, "prompted", .evaluate,
                params: #"{"task": "facts", "dataset": "gpt4", "variant": "base", "system_prompt": "Be honest."}"#, cells: [([], {
                    var r = ReportFixture.scored(ReportFixture.answers(0..<20, honest: 14, dishonest: 6), variant: "prompted \"Be honest.\"", task: "facts")
                    r.metrics["kl_neutral"] = 0.123456
                    r.metrics["distinct_2_pct"] = 88.25
                    return r
                }())])),
            ("eot", try ReportFixture.stage(store, "eot", .actAddTopic, params: #"{"plus": " weddings", "minus": "", "leading_token": "<|endoftext|>"}"#,
                cells: [([JSONMember(key: "layer", value: 16), JSONMember(key: "coefficient", value: 4)], Self.topicCell(1.25, ratio: 0.9)),
                        ([JSONMember(key: "layer", value: 16), JSONMember(key: "coefficient", value: 2)], Self.topicCell(0.5, ratio: 0.95)),
                        ([JSONMember(key: "baseline", value: .bool(true))], Self.topicCell(0.01, ratio: nil))])),
            ("plain", try ReportFixture.stage(store, "plain", .actAddTopic, params: #"{"plus": " weddings", "minus": ""}"#,
                cells: [([JSONMember(key: "layer", value: 16), JSONMember(key: "coefficient", value: 4)], Self.topicCell(0.02, ratio: 1.1))])),
        ]
        let stages = try keys.map { try StoredStage.load(store, key: $0.1, stageID: $0.0) }
        let document = try ReportGenerator.document(stages: stages, title: "t")

        let table = try #require(document.table("facts"))
        #expect(table.rows.map { $0[0] } == ["facts_base", "prompted"])           // the prompted condition is not the base
        #expect(table.cell(row: "facts_base", column: "Δ honest (pp)") == "base")
        #expect(table.cell(row: "prompted", column: "Δ honest (pp)") == "+20.0")
        #expect(table.cell(row: "prompted", column: "KL vs base on neutral text (nats)") == "0.1235")
        #expect(table.cell(row: "prompted", column: "distinct-2 %") == "88.3" || table.cell(row: "prompted", column: "distinct-2 %") == "88.2")
        #expect(table.cell(row: "facts_base", column: "KL vs base on neutral text (nats)") == ReportModel.none)
        #expect(!table.columns.contains("distinct-1 %"))                          // stored by no condition

        let eot = try #require(document.table("actadd-eot"))
        #expect(eot.title.contains("after <|endoftext|>") && eot.title.contains("\" weddings\" − \"\""))
        #expect(eot.rows.map { [$0[0], $0[1]] } == [["unsteered", ReportModel.none], ["16", "2"], ["16", "4"]])
        #expect(eot.cell(row: "16", column: "topic words / completion") == "0.500")
        #expect(eot.rows[2][3] == "1.250" && eot.rows[2][4] == "0.625–2.500" && eot.rows[2][8] == "0.9000" && eot.rows[2][9] == "1.8000")
        let plain = try #require(document.table("actadd-plain"))
        #expect(plain.title.contains("on the prompt's first token") && plain.rows.count == 1)
        // One line per stage × layer: eot's L16 from its baseline at 0 through coefficients 2 and 4 (three points); plain's
        // single cell is a marker without a line.
        let figure = try #require(document.figure("actadd-topic-words"))
        let svg = try #require(SVGCheck.parse(figure.svg))
        #expect(svg.with("polyline", cssClass: "series").map { $0["data-series"] } == ["eot L16"])
        #expect(svg.with("circle", cssClass: "marker").count == 4)

        // A report without controls or ActAdd stages has neither.
        let bare = try ReportGenerator.document(stages: [stages[0]], title: "t")
        #expect(bare.table("facts")?.columns.contains("KL vs base on neutral text (nats)") == false)
        #expect(bare.figure("actadd-topic-words") == nil)
    }
}
