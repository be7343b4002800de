import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Experiments
import Pipeline
import TestSupport

/// Counts an SVG's elements by name and class after parsing it with Foundation's XML parser (nil if it is not XML).
final class SVGCheck: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []

    static func parse(_ svg: String) -> SVGCheck? {
        let check = SVGCheck()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = check
        return parser.parse() ? check : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }

    func with(_ name: String, cssClass: String) -> [[String: String]] {
        elements.filter { $0.name == name && $0.attributes["class"] == cssClass }.map(\.attributes)
    }
}

@Suite("Reports from a results store")
struct ReportTests {
    static func withStore(_ body: (URL, Store) throws -> Void) throws {
        let dir = try Fixtures.temporaryDirectory("reptune-report")
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir, try ReportFixture.build(dir))
    }

    static func svg(_ document: ReportDocument, _ id: String) throws -> SVGCheck {
        guard let figure = document.figure(id) else { throw ReportError("no figure \(id) in \(document.figures.map(\.id))") }
        guard let check = SVGCheck.parse(figure.svg) else { throw ReportError("figure \(id) is not well-formed XML") }
        return check
    }

    @Test func factsTableHasWilsonIntervalsAndTestsAgainstTheBase() throws {
        try Self.withStore { _, store in
            let document = try ReportGenerator.document(store)
            let facts = try #require(document.table("facts"))
            #expect(facts.rows.map { $0[0] } == ["facts_base", "facts_pos", "facts_neg"])
            #expect(facts.cell(row: "facts_base", column: "honest %") == "75.0")
            let w = WilsonInterval(successes: 30, trials: 40)
            #expect(facts.cell(row: "facts_base", column: "honest 95% CI") == "\(ReportNumber.percent(100 * w.lower))–\(ReportNumber.percent(100 * w.upper))")
            #expect(facts.cell(row: "facts_base", column: "honest 95% CI") == "59.8–85.8")
            #expect(facts.cell(row: "facts_base", column: "Δ honest (pp)") == "base" && facts.cell(row: "facts_base", column: "p honest (z)") == ReportModel.none)
            #expect(facts.cell(row: "facts_pos", column: "unparseable %") == "2.5")
            #expect(facts.cell(row: "facts_pos", column: "variant") == "steered L15 ×19")
            // Steered −19 vs base: 12/40 vs 30/40 honest.
            let z = try #require(TwoProportionZTest(successes1: 12, trials1: 40, successes2: 30, trials2: 40))
            #expect(facts.cell(row: "facts_neg", column: "p honest (z)") == ReportNumber.pValue(z.p))
            #expect(facts.cell(row: "facts_neg", column: "p honest (z)") == "5.58e-05")
            #expect(facts.cell(row: "facts_neg", column: "Δ honest (pp)") == "-45.0")
            #expect(facts.cell(row: "facts_neg", column: "Δ dishonest (pp)") == "+45.0")
            // Paired: base honest on items 0…29, steered −19 on 0…11 → 18 discordant pairs, all one way.
            #expect(facts.cell(row: "facts_neg", column: "p honest (McNemar)") == ReportNumber.pValue(McNemarTest(b: 18, c: 0).exactP))
            #expect(facts.cell(row: "facts_pos", column: "p honest (McNemar)") == "0.1250")
            #expect(facts.cell(row: "facts_pos", column: "paired items") == "40")
            #expect(facts.cell(row: "facts_pos", column: "logit honest %") == "87.5")
        }
    }

    @Test func unpairedItemsGetNoMcNemarAndCountsComeFromGenerations() throws {
        try Self.withStore { _, store in
            let tqa = try #require(try ReportGenerator.document(store).table("tqa"))
            #expect(tqa.cell(row: "tqa_tuned", column: "n") == "20")
            #expect(!tqa.columns.contains("logit honest %"))
            #expect(tqa.cell(row: "tqa_tuned", column: "honest %") == "75.0")
            #expect(tqa.cell(row: "tqa_tuned", column: "p honest (McNemar)") == ReportModel.none)
            #expect(tqa.cell(row: "tqa_tuned", column: "paired items") == ReportModel.none)
            let z = try #require(TwoProportionZTest(successes1: 15, trials1: 20, successes2: 10, trials2: 20))
            #expect(tqa.cell(row: "tqa_tuned", column: "p honest (z)") == ReportNumber.pValue(z.p))
        }
    }

    @Test func sweepGridAndHeatmapFollowTheCells() throws {
        try Self.withStore { _, store in
            let document = try ReportGenerator.document(store)
            let grid = try #require(document.table("sweep-sweep"))
            #expect(grid.columns == ["layer", "×-19", "×19", "zero-out"])
            #expect(grid.rows == [["10", "20.0", "70.0", "50.0"], ["15", "10.0", "90.0", ReportModel.none]])
            let svg = try Self.svg(document, "sweep-sweep")
            let cells = svg.with("rect", cssClass: "cell")
            #expect(cells.count == 6)
            func cell(_ layer: String, _ column: String) -> [String: String]? { cells.first { $0["data-row"] == layer && $0["data-column"] == column } }
            #expect(cell("15", "19")?["data-value"] == "90" && cell("15", "-19")?["data-value"] == "10")
            let scale = ColourScale.sequential(low: 0, high: 100)
            #expect(cell("15", "19")?["fill"] == scale.colour(90) && cell("10", "zero-out")?["fill"] == scale.colour(50))
            #expect(cell("15", "zero-out")?["fill"] == HeatmapPlot.missingColour)
            #expect(scale.colour(90) != scale.colour(10))
        }
    }

    @Test func vectorsPerplexityTuneAndJudgeSections() throws {
        try Self.withStore { _, store in
            let document = try ReportGenerator.document(store)
            let vectors = try #require(document.table("vectors-vec"))
            #expect(vectors.rows.map { $0[0] } == ["10", "15"])
            #expect(vectors.cell(row: "15", column: "AUROC") == "0.9500" && vectors.cell(row: "15", column: "lens +") == #"" honest" "true" "truth""#)
            let auroc = try Self.svg(document, "vectors-auroc")
            #expect(auroc.with("polyline", cssClass: "series").map { $0["data-series"] } == ["AUROC", "explained variance"])
            #expect(document.table("perplexity")?.rows == [["ppl_base", "base", "12.3457", "1000", "2513.20"]])
            let tune = try #require(document.table("tune"))
            #expect(tune.rows == [["tune lr_other=0.000001 lr_vo=0.00001", "honesty", "4", "0.5000", "0.6000", "0.5500", "12.0000"]])
            let loss = try Self.svg(document, "tune-tune-0-loss")
            // Validation is missing at step 2: its line joins steps 1, 3 and 4.
            #expect(loss.with("polyline", cssClass: "series").map { $0["points"]?.split(separator: " ").count } == [4, 3])
            #expect(loss.with("circle", cssClass: "marker").count == 7)
            let cosine = try Self.svg(document, "tune-tune-0-cosine")
            #expect(cosine.with("rect", cssClass: "cell").count == 8)
            #expect(cosine.with("rect", cssClass: "cell").filter { $0["data-value"] == "1" }.map { $0["fill"] } == ["#b2182b"])
            let judge = try #require(document.table("judge"))
            #expect(judge.columns == ["judge", "a_wins", "b_wins", "ties", "wilcoxon_p", "kappa"])
            #expect(judge.rows == [["judge", "12", "3", "5", "0.0123", "0.6"]])
            // The report stage itself is not reported on.
            #expect(!document.preamble.joined().contains("rep ("))
            #expect(document.preamble == ["Run 1 of manifest \"honesty\" (done).",
                                          "Stages: vec (vectors, 1/1 cell done), facts_base (evaluate, 1/1 cell done), facts_pos (evaluate, 1/1 cell done), facts_neg (evaluate, 1/1 cell done), tqa_base (evaluate, 1/1 cell done), tqa_tuned (evaluate, 1/1 cell done), sweep (steering_sweep, 5/5 cells done), ppl_base (perplexity, 1/1 cell done), tune (tune, 1/1 cell done), judge (judge, 1/1 cell done)."])
        }
    }

    /// A run that was interrupted says whether its stages were finished anyway (by later runs sharing the cache),
    /// and which part is missing when they were not: the committed study is run 1 of seven, finished by the others.
    @Test func anInterruptedRunSaysHowCompleteItsStagesAre() throws {
        try Self.withStore { _, store in
            try store.finishRun(1, status: "interrupted")
            #expect(try ReportGenerator.document(store).preamble.first == "Run 1 of manifest \"honesty\" (interrupted; every cell of its 10 stages is done in the store).")
            let sweep = try #require(try store.stages().first { $0.stageID == "sweep" })
            try store.db.run("UPDATE cells SET status = 'pending' WHERE stage_key = ? AND cell_index = 0", [.text(sweep.key)])
            let preamble = try ReportGenerator.document(store).preamble
            #expect(preamble.first == "Run 1 of manifest \"honesty\" (interrupted; 9 of its 10 stages complete).")
            #expect(preamble.last?.contains("sweep (steering_sweep, 4/5 cells done)") == true, "\(preamble)")
        }
    }

    @Test func everyFormatIsWrittenAndDeterministic() throws {
        try Self.withStore { dir, _ in
            let first = dir.appendingPathComponent("out1"), second = dir.appendingPathComponent("out2")
            let all = Set(ReportFormat.allCases)
            let urls = try ReportGenerator.write(resultsDirectory: dir, formats: all, output: first)
            try ReportGenerator.write(resultsDirectory: dir, formats: all, output: second)
            let names = urls.map(\.lastPathComponent)
            #expect(names == ["facts-dishonest.svg", "facts-honest.svg", "facts.csv", "index.html", "judge.csv", "perplexity.csv", "report.json", "report.md",
                              "report.tex", "sweep-sweep.csv", "sweep-sweep.svg", "tqa-dishonest.svg", "tqa-honest.svg", "tqa.csv", "tune-tune-0-cosine.svg",
                              "tune-tune-0-loss.svg", "tune.csv", "vectors-auroc.svg", "vectors-vec.csv"])
            for name in names {
                let a = try Data(contentsOf: first.appendingPathComponent(name)), b = try Data(contentsOf: second.appendingPathComponent(name))
                #expect(a == b, "\(name) differs between two renders")
                if name.hasSuffix(".svg") { #expect(SVGCheck.parse(String(decoding: a, as: UTF8.self)) != nil, "\(name) is not XML") }
            }
            let bars = try #require(SVGCheck.parse(try String(contentsOf: first.appendingPathComponent("facts-honest.svg"), encoding: .utf8)))
            #expect(bars.with("rect", cssClass: "bar").count == 3 && bars.with("line", cssClass: "whisker").count == 9)
            let dishonest = try #require(SVGCheck.parse(try String(contentsOf: first.appendingPathComponent("facts-dishonest.svg"), encoding: .utf8)))
            #expect(dishonest.with("rect", cssClass: "bar").map { $0["data-value"] } == ["25", "12.5", "70"])
            let md = try String(contentsOf: first.appendingPathComponent("report.md"), encoding: .utf8)
            #expect(md.hasPrefix("# honesty — results\n"))
            #expect(md.contains("| facts_base | base | 40 | 75.0 | 59.8–85.8 | 25.0 | 14.2–40.2 | 0.0 | base | – | – | – | – | – | – | 77.5 |"))
            #expect(md.contains("![Honest % over layer × multiplier, sweep](sweep-sweep.svg)"))
            let html = try String(contentsOf: first.appendingPathComponent("index.html"), encoding: .utf8)
            #expect(html.contains("<img src=\"sweep-sweep.svg\""))
            let json = try JSONParser.parse(String(contentsOf: first.appendingPathComponent("report.json"), encoding: .utf8))
            #expect(json["tables"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["facts", "tqa", "sweep-sweep", "vectors-vec", "perplexity", "tune", "judge"])
            let csv = try String(contentsOf: first.appendingPathComponent("sweep-sweep.csv"), encoding: .utf8)
            #expect(csv == "layer,×-19,×19,zero-out\r\n10,20.0,70.0,50.0\r\n15,10.0,90.0,–\r\n")
            #expect(try String(contentsOf: first.appendingPathComponent("report.tex"), encoding: .utf8).contains("\\resizebox{\\textwidth}{!}{%\n\\begin{tabular}{llrrrrrrrrrrrrrr}"))
        }
    }

    @Test func malformedOutputsAreNamed() throws {
        let dir = try Fixtures.temporaryDirectory("reptune-report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir)
        try store.db.run("INSERT INTO runs (manifest_name, base_directory, manifest_text, status, started_at) VALUES ('bad', '/x', '{}', 'done', 1)")
        let vec = try ReportFixture.stage(store, "vec", .vectors, cells: [([], CellResult(outputs: .object(["layers": .array([.object(["auroc": .double(0.5)])])])))])
        let tune = try ReportFixture.stage(store, "tune", .tune, cells: [([], CellResult(outputs: .object([
            "cosine_map": .object(["layers": .array([1]), "positions": .array([0, 1]), "base": .array([.array([.double(0.1)])]), "tuned": .array([])]),
        ])))])
        try store.recordRunStages(1, stages: [(stageID: "vec", key: vec)])
        #expect { try ReportGenerator.document(store) } throws: {
            "\($0)" == "stage \"vec\" outputs.layers[0].layer: expected an integer, found nothing"
        }
        try store.db.run("DELETE FROM run_stages")
        try store.recordRunStages(1, stages: [(stageID: "tune", key: tune)])
        #expect { try ReportGenerator.document(store) } throws: {
            "\($0)" == "stage \"tune\" cell 0 outputs.cosine_map.base: expected 1 rows (layers) of 2 numbers (positions)"
        }
        let empty = try Fixtures.temporaryDirectory("reptune-report")
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect { try ReportGenerator.document(Store(directory: empty)) } throws: { "\($0)".hasPrefix("no runs recorded in") }
    }

    @Test func reportStageRendersItsInputs() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        var registry = Arith.registry(log: CallLog())
        registry.register(.report, .report)
        let summary = try Arith.run(dir, registry: registry)
        #expect(!summary.failed, "\(summary)")
        let results = dir.appendingPathComponent("results")
        let rep = try StageResults.load(Store(directory: results), stageID: "rep")
        #expect(rep.cells.map { CanonicalJSON.encode($0.outputs) } == [#"{"directory":"report"}"#])
        let md = try String(contentsOf: results.appendingPathComponent("report/report.md"), encoding: .utf8)
        #expect(md.hasPrefix("# arith — results\n"))
        #expect(md.contains("Stages: sweep (steering_sweep, 9/9 cells done), ppl (perplexity, 1/1 cell done)."))
        #expect(md.contains("| ppl | base | 2.5000 |"), "\(md)")
        #expect(rep.cells.first?.metrics["files"] == 1)
    }

    @Test(.enabled(if: CLI.executable != nil, CLI.missing))
    func cliWritesTheReport() throws {
        try Self.withStore { dir, _ in
            let r = try CLI.run(["report", dir.path, "--format", "md"])
            #expect(r.status == 0, "\(r.stderr)")
            let out = dir.appendingPathComponent("report")
            #expect(r.stdout.contains(out.appendingPathComponent("report.md").path), "\(r.stdout)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("sweep-sweep.svg").path))
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("facts.csv").path))
            let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
            #expect(md == (try ReportGenerator.document(Store(readOnlyDirectory: dir)).markdown()))
            let other = dir.appendingPathComponent("elsewhere")
            let csv = try CLI.run(["report", dir.path, "--format", "csv", "--out", other.path])
            #expect(csv.status == 0 && FileManager.default.fileExists(atPath: other.appendingPathComponent("facts.csv").path), "\(csv.stderr)")
            let noRun = try CLI.run(["report", dir.path, "--run", "7"])
            #expect(noRun.status == 1 && noRun.stderr.contains("no run 7 recorded in"), "\(noRun.stderr)")
            let bad = try CLI.run(["report", dir.path, "--format", "pdf"])
            #expect(bad.status == 2 && bad.stderr.contains("expected one of md, csv, tex, html, svg, json"), "\(bad.stderr)")
        }
    }
}

/// Two judges of the same pair of generation sets: the report adds Cohen's κ between them, computed from their
/// per-item scores (checked against `CohensKappa` on the same lists).
struct ReportJudgeAgreementTests {
    @Test func kappaBetweenJudgesOfTheSamePair() throws {
        let dir = try Fixtures.temporaryDirectory("report-judges")
        let store = try Store(directory: dir)
        let first = [1, 1, -1, 0, 1, -1, 0, 1], second = [1, 0, -1, 0, 1, 1, 0, 1]
        func judge(_ scores: [Int], _ name: String) -> CellResult {
            CellResult(metrics: ["n": Double(scores.count)], outputs: .object([
                "judge": .string(name), "a": .string("open_tuned"), "b": .string("open_base"),
                "items": .array(scores.enumerated().map { .object(["item": .int($0), "score": .int($1)]) }),
            ]))
        }
        try ReportFixture.stage(store, "judge_local", .judge, cells: [([], judge(first, "local:smollm2"))])
        try ReportFixture.stage(store, "judge_api", .judge, cells: [([], judge(second, "openai:gpt"))])
        let stages = try ["judge_local", "judge_api"].map { try StoredStage.load(store, key: "key-\($0)", stageID: $0) }
        let model = try ReportModel.assemble(stages, title: "judges")
        let expected = try #require(CohensKappa(rater1: first, rater2: second)).kappa
        #expect(model.judges.count == 2)
        for j in model.judges { #expect(j.metrics["kappa_between_judges"] == expected, "\(j.label)") }
    }
}
