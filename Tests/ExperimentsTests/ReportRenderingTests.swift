import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Experiments

/// Parses an SVG with Foundation's XML parser and keeps every element's name and attributes, in order.
final class SVGElements: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text: [String] = []
    var failure: Error?

    init(_ svg: String) {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        if !parser.parse() { failure = parser.parserError ?? CocoaError(.coderReadCorrupt) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text.append(string) }

    func with(_ name: String, cssClass: String) -> [[String: String]] {
        elements.filter { $0.name == name && $0.attributes["class"] == cssClass }.map(\.attributes)
    }
}

@Suite("Report rendering: SVG plots and table formats")
struct ReportRenderingTests {
    @Test func axesPickRoundTicks() {
        #expect(PlotAxis(covering: [0.13, 0.87]).ticks == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(PlotAxis(covering: [1, 4], target: 6, integral: true).ticks == [1, 2, 3, 4])
        #expect(PlotAxis(covering: [3, 3]).ticks.count >= 2)
        let axis = PlotAxis(low: 0, high: 100, step: 20)
        #expect(axis.position(25, from: 280, to: 40) == 220)
        #expect(axis.label(40) == "40")
    }

    @Test func numbersHaveFixedFormats() {
        #expect(ReportNumber.percent(81) == "81.0")
        #expect(ReportNumber.percent(-0.01) == "0.0")
        #expect(ReportNumber.pValue(0.04567) == "0.0457")
        #expect(ReportNumber.pValue(3.2e-7) == "3.20e-07")
        #expect(ReportNumber.count(200) == "200")
        #expect(ReportNumber.trimmed(12.50) == "12.5")
        #expect(ReportNumber.trimmed(1e-5, 6) == "0.00001")
    }

    @Test func colourScaleIsOrderedAndHitsItsEnds() {
        let scale = ColourScale.sequential(low: 0, high: 100)
        #expect(scale.colour(0) == "#440154")
        #expect(scale.colour(100) == "#fde725")
        #expect(scale.colour(-5) == scale.colour(0) && scale.colour(150) == scale.colour(100))
        #expect(scale.colour(50) == "#21918c")
        // Lightness (sum of channels) rises with the value.
        func brightness(_ hex: String) -> Int {
            let v = Int(hex.dropFirst(), radix: 16)!
            return (v >> 16) + ((v >> 8) & 255) + (v & 255)
        }
        let values = stride(from: 0.0, through: 100, by: 12.5).map { brightness(scale.colour($0)) }
        #expect(values == values.sorted())
        #expect(ColourScale.diverging(low: -1, high: 1).colour(0) == "#f7f7f7")
        #expect(ColourScale.isDark("#440154") && !ColourScale.isDark("#fde725") && !ColourScale.isDark("#f7f7f7"))
    }

    @Test func heatmapIsValidXMLWithOneRectPerCellAndALegend() throws {
        let panel = HeatmapPanel(title: "", rowLabels: ["10", "15", "20"], columnLabels: ["-19", "0", "19", "33"],
                                 values: [[10, 20, 30, 40], [50, 60, nil, 80], [90, 95, 99, 100]])
        let plot = HeatmapPlot(title: "Honest % <facts> & more", xLabel: "multiplier", yLabel: "layer", panels: [panel],
                               scale: .sequential(low: 0, high: 100), legendLabel: "honest %")
        let svg = plot.svg()
        let xml = SVGElements(svg)
        #expect(xml.failure == nil, "\(String(describing: xml.failure))")
        let cells = xml.with("rect", cssClass: "cell")
        #expect(cells.count == 12)
        let missing = try #require(cells.first { $0["data-row"] == "15" && $0["data-column"] == "19" })
        #expect(missing["data-value"] == "" && missing["fill"] == HeatmapPlot.missingColour)
        let top = try #require(cells.first { $0["data-row"] == "20" && $0["data-column"] == "33" })
        #expect(top["fill"] == "#fde725" && top["data-value"] == "100")
        #expect(xml.with("rect", cssClass: "legend-step").count == 20)
        #expect(xml.text.joined().contains("Honest % <facts> & more"))
        #expect(xml.text.contains("multiplier") && xml.text.contains("layer") && xml.text.contains("honest %"))
        #expect(svg == plot.svg())
    }

    @Test func sideBySidePanelsShareTheScale() {
        let base = HeatmapPanel(title: "base", rowLabels: ["11", "12"], columnLabels: ["-2", "-1", "0"], values: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
        var tuned = base
        tuned.title = "tuned"
        tuned.values = [[0.9, 0.9, 0.9], [-0.9, 0.0, 1.0]]
        let xml = SVGElements(HeatmapPlot(title: "cos", xLabel: "position", yLabel: "layer", panels: [base, tuned],
                                          scale: .diverging(low: -1, high: 1), legendLabel: "cos").svg())
        #expect(xml.failure == nil)
        let cells = xml.with("rect", cssClass: "cell")
        #expect(cells.count == 12)
        #expect(xml.with("text", cssClass: "panel-title").count == 2)
        #expect(cells.filter { $0["data-value"] == "1" }.map { $0["fill"] } == ["#b2182b"])
    }

    @Test func barChartHasBarsAndWhiskers() throws {
        let plot = BarChartPlot(title: "facts", yLabel: "honest %", bars: [
            BarChartBar(label: "base", value: 81, low: 75, high: 86), BarChartBar(label: "steered", value: 83, low: 77, high: 88),
            BarChartBar(label: "no CI", value: 40),
        ])
        let xml = SVGElements(plot.svg())
        #expect(xml.failure == nil)
        let bars = xml.with("rect", cssClass: "bar")
        #expect(bars.map { $0["data-label"] } == ["base", "steered", "no CI"])
        #expect(xml.with("line", cssClass: "whisker").count == 6)
        // Heights are proportional to the values on the 0–100 axis (240 px).
        #expect(bars.map { $0["height"] } == ["194.4", "199.2", "96"])
    }

    @Test func lineChartJoinsKnownPointsAcrossMissingValues() {
        let plot = LineChartPlot(title: "loss", xLabel: "step", yLabel: "loss", series: [
            LineSeries(name: "train", points: [(0, 2), (1, 1.5), (2, 1.2), (3, 1.0)]),
            LineSeries(name: "validation", points: [(0, 2.1), (1, nil), (2, 1.4), (3, 1.3)], dashed: true),
        ])
        let xml = SVGElements(plot.svg())
        #expect(xml.failure == nil)
        let lines = xml.with("polyline", cssClass: "series")
        #expect(lines.map { $0["data-series"] } == ["train", "validation"])
        #expect(lines[0]["points"]?.split(separator: " ").count == 4)
        #expect(lines[1]["points"]?.split(separator: " ").count == 3)
        #expect(xml.with("circle", cssClass: "marker").count == 7)
        // Whole-number x values (steps 0…3) get whole-number ticks: 0, 1, 2, 3.
        #expect(xml.with("line", cssClass: "tick").map { $0["x1"] } == ["64", "210.67", "357.33", "504"])
        #expect(xml.with("text", cssClass: "legend-label").count == 2)
    }

    static var document: ReportDocument {
        ReportDocument(title: "T & <x>", preamble: ["run 1"], sections: [
            ReportSection(title: "Facts_1", paragraphs: ["50% of #1"], tables: [
                ReportTable(id: "facts", title: "Facts", columns: ["condition", "honest %"], numeric: [false, true],
                            rows: [["base, plain", "81.0"], ["a|b", "83.0"]], note: "n = 200"),
            ], figures: [ReportFigure(id: "bars", caption: "Bars", svg: BarChartPlot(title: "b", yLabel: "y", bars: []).svg())]),
        ])
    }

    @Test func tableFormatsEscapeAndAlign() {
        let d = Self.document
        let md = d.markdown()
        #expect(md.contains("| condition | honest % |\n|---|---:|\n| base, plain | 81.0 |\n| a\\|b | 83.0 |\n"))
        #expect(md.contains("![Bars](bars.svg)"))
        #expect(d.csvFiles().map(\.name) == ["facts.csv"])
        #expect(d.csvFiles()[0].text == "condition,honest %\r\n\"base, plain\",81.0\r\na|b,83.0\r\n")
        let tex = d.latex()
        #expect(tex.contains("\\begin{tabular}{lr}\n\\hline\ncondition & honest \\% \\\\\n\\hline\nbase, plain & 81.0 \\\\\n"))
        #expect(tex.contains("\\subsection*{Facts\\_1}") && tex.contains("50\\% of \\#1"))
        let html = d.html()
        #expect(html.contains("<title>T &amp; &lt;x&gt;</title>"))
        #expect(html.contains("<td>base, plain</td><td class=\"num\">81.0</td>"))
        #expect(html.contains("<img src=\"bars.svg\""))
        #expect(!html.contains("facts.csv") && d.html(linkCSV: true).contains("<a href=\"facts.csv\">"))
        var symbols = d
        symbols.sections[0].tables[0].columns[1] = "Δ honest × −1 – ok"
        #expect(symbols.latex().contains("$\\Delta$ honest $\\times$ $-$1 -- ok"))
        let json = d.json()
        #expect(json.contains("\"rows\": [\n      [\"base, plain\",\"81.0\"],\n      [\"a|b\",\"83.0\"]\n    ]"))
        #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil)
    }

    @Test func writerWritesTheFilesOfEachFormatOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reptune-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let urls = try ReportWriter.write(Self.document, formats: [.md, .html, .csv], to: dir)
        #expect(urls.map(\.lastPathComponent) == ["bars.svg", "facts.csv", "index.html", "report.md"])
        #expect(ReportWriter.fileNames(Self.document, formats: [.tex]) == ["report.tex"])
        #expect(try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8) == Self.document.markdown())
        #expect(throws: ReportError.self) { try ReportFormat.parse("pdf") }
        #expect(try ReportFormat.parse("tex") == .tex)
    }
}
