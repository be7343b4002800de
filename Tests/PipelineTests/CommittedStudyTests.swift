import Foundation
import Testing
import Pipeline
import TestSupport

/// The committed study report is what `reptune report` renders from the committed study store: the numbers in
/// `results/smollm2-135m/paper-honesty/` come from `results/smollm2-135m/store/`, file for file, byte for byte.
@Suite("The committed SmolLM2 study")
struct CommittedStudyTests {
    static let study = Fixtures.repoRoot.appendingPathComponent("results/smollm2-135m")
    static let present = FileManager.default.fileExists(atPath: study.appendingPathComponent("store/reptune.sqlite").path)

    @Test(.enabled(if: present, "SKIPPED: no committed study store under results/smollm2-135m/store"))
    func reportIsRenderedFromTheStore() throws {
        let committed = Self.study.appendingPathComponent("paper-honesty")
        let markdown = try String(contentsOf: committed.appendingPathComponent("report.md"), encoding: .utf8)
        // The report names its run: "Run N of manifest …".
        let run = try #require(markdown.split(separator: "\n").lazy.compactMap { line -> Int? in
            guard line.hasPrefix("Run ") else { return nil }
            return Int(line.dropFirst(4).prefix { $0.isNumber })
        }.first, "report.md names no run")
        let out = try Fixtures.temporaryDirectory("reptune-study-report")
        defer { try? FileManager.default.removeItem(at: out) }
        let files = try ReportGenerator.write(resultsDirectory: Self.study.appendingPathComponent("store"),
                                              formats: [.md, .csv, .html, .svg], output: out, runID: run)
        let rendered = files.map(\.lastPathComponent).sorted()
        let stored = try FileManager.default.contentsOfDirectory(atPath: committed.path).sorted()
        #expect(rendered == stored)
        for name in rendered {
            let a = try Data(contentsOf: out.appendingPathComponent(name)), b = try Data(contentsOf: committed.appendingPathComponent(name))
            #expect(a == b, "\(name) differs from what the store renders")
        }
    }
}
