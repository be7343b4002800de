import CommandLineSpec
import Foundation
import Experiments
import Pipeline

/// `reptune report [DIR] [--format md|csv|tex|html|svg|json] [--out DIR] [--title T] [--run N]`: tables and SVG plots
/// of the latest run (or run N) of a results directory.
enum ReportCommand {
    static func run(_ a: ParsedArguments) throws {
        let directory = try StoreCommands.directory(a, consumes: 0)
        let formats = Set((a.words("format") ?? []).compactMap(ReportFormat.init(rawValue:)))
        let output = a.string("out").map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("report")
        let files = try ReportGenerator.write(resultsDirectory: directory, formats: formats.isEmpty ? ReportGenerator.defaultFormats : formats,
                                              output: output, title: a.string("title"), runID: a.int("run"))
        if a.json {
            try printJSON(files.map(\.path))
        } else {
            print("wrote \(files.count) file\(files.count == 1 ? "" : "s") to \(output.path):")
            for f in files { print("  \(f.path)") }
        }
    }
}
