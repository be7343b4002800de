import Foundation
import Testing
import Pipeline
import TestSupport

/// Every committed study report is what `reptune report` renders from its committed store: the numbers in
/// `results/<study>/<report>/` come from `results/<study>/store/`, file for file, byte for byte.
@Suite("The committed studies")
struct CommittedStudyTests {
    /// (folder under results/, the report's folder in it).
    static let studies = [("smollm2-135m", "paper-honesty"), ("caa-smollm2-135m", "report"), ("caa-smollm2-135m", "conditional"),
                          ("caa-qwen2.5-coder-0.5b", "report"),
                          ("actadd-smollm2-135m", "report"), ("actadd-qwen2.5-coder-0.5b", "report")]

    @Test(arguments: studies)
    func reportIsRenderedFromTheStore(study: String, report: String) throws {
        let root = Fixtures.repoRoot.appendingPathComponent("results/\(study)")
        let committed = root.appendingPathComponent(report)
        let markdown = try String(contentsOf: committed.appendingPathComponent("report.md"), encoding: .utf8)
        // The report names its run: "Run N of manifest …".
        let run = try #require(markdown.split(separator: "\n").lazy.compactMap { line -> Int? in
            guard line.hasPrefix("Run ") else { return nil }
            return Int(line.dropFirst(4).prefix { $0.isNumber })
        }.first, "report.md names no run")
        let out = try Fixtures.temporaryDirectory("reptune-study-report")
        defer { try? FileManager.default.removeItem(at: out) }
        let files = try ReportGenerator.write(resultsDirectory: root.appendingPathComponent("store"),
                                              formats: [.md, .csv, .html, .svg], output: out, runID: run)
        let rendered = files.map(\.lastPathComponent).sorted()
        let stored = try FileManager.default.contentsOfDirectory(atPath: committed.path).sorted()
        #expect(rendered == stored)
        for name in rendered {
            let a = try Data(contentsOf: out.appendingPathComponent(name)), b = try Data(contentsOf: committed.appendingPathComponent(name))
            #expect(a == b, "\(study)/\(report)/\(name) differs from what the store renders")
        }
    }
}
