import Foundation
import Experiments
import Pipeline

/// `reptune report [DIR] [--format md|csv|tex|html|svg|json] [--out DIR] [--title T] [--run N]`: tables and SVG plots
/// of the latest run (or run N) of a results directory.
enum ReportCommand {
    static let spec = Arguments.Spec(
        usage: "report [DIR] [--format md|csv|tex|html|svg|json[,…]] [--out DIR] [--title TEXT] [--run N]",
        summary: "tables (Markdown, CSV, LaTeX, HTML) and SVG plots of the latest run; written to DIR/report/",
        valued: ["format", "out", "title", "run"])

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        let directory = try StoreCommands.directory(a, consumes: 0)
        var formats = ReportGenerator.defaultFormats
        if let list = a.options["format"] {
            formats = Set(try list.split(separator: ",").map { name in
                do { return try ReportFormat.parse(String(name).trimmingCharacters(in: .whitespaces)) } catch {
                    throw CLIError("--format: \(error)")
                }
            })
        }
        let output = a.options["out"].map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("report")
        let files = try ReportGenerator.write(resultsDirectory: directory, formats: formats, output: output, title: a.options["title"],
                                              runID: try a.int("run", in: 1...Int.max))
        if a.flags.contains("json") {
            try printJSON(files.map(\.path))
        } else {
            print("wrote \(files.count) file\(files.count == 1 ? "" : "s") to \(output.path):")
            for f in files { print("  \(f.path)") }
        }
    }
}
