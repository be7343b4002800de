import Foundation
import Pipeline

/// `reptune status|query|results|gc [DIR]`: read (or tidy) a results directory's store.
enum StoreCommands {
    static let status = Arguments.Spec(usage: "status [DIR]", summary: "stages of the latest run: status, cells done/total, failures, ETA")
    static let query = Arguments.Spec(usage: "query [DIR] SQL [--format table|csv|json|md] [--timeout SECONDS]",
                                      summary: "read-only SQL over the store's documented v_* views; stops at --timeout or Ctrl-C",
                                      valued: ["format", "timeout"])
    static let results = Arguments.Spec(usage: "results [DIR] --stage ID [--format table|csv|json|md]",
                                        summary: "one stage's cells and metrics", valued: ["stage", "format"])
    static let gc = Arguments.Spec(usage: "gc [DIR] [--keep-all-runs]", summary: "drop artifacts no run references",
                                   flags: ["keep-all-runs"])

    static let pack = Arguments.Spec(usage: "pack [DIR] --out DIR [--max-artifact-mib N]",
                                     summary: "a self-contained copy of a results directory to commit or send (artifacts over N MiB, default 16, left out)",
                                     valued: ["out", "max-artifact-mib"])

    /// The results directory: the first positional argument if it is a directory with a store, else `runs/`'s
    /// only run, else the working directory.
    static func directory(_ a: Arguments, consumes count: Int) throws -> URL {
        let fm = FileManager.default
        if a.positional.count > count {
            let url = URL(fileURLWithPath: a.positional[0])
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("\(url.path): no such results directory", exitCode: 1)
            }
            return url
        }
        if let runs = try? fm.contentsOfDirectory(atPath: "runs"), runs.count == 1 {
            return URL(fileURLWithPath: "runs").appendingPathComponent(runs[0])
        }
        return URL(fileURLWithPath: fm.currentDirectoryPath)
    }

    static func format(_ a: Arguments) throws -> TableFormat {
        if a.flags.contains("json") { return .json }
        guard let f = a.options["format"] else { return .table }
        guard let format = TableFormat(rawValue: f) else {
            throw CLIError("--format \(f): expected one of \(TableFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return format
    }

    static func runStatus(_ args: [String]) throws {
        let a = try status.parse(args)
        print(try RunStatus.load(Store(readOnlyDirectory: directory(a, consumes: 0))).description)
    }

    static func runQuery(_ args: [String]) throws {
        let a = try query.parse(args)
        guard let sql = a.positional.last else { throw CLIError("give the SQL to run") }
        let timeout = try a.float("timeout", in: 0.001...1e9).map(Double.init)
        let cancellation = CancellationFlag()
        let handler = cancellation.installInterruptHandler(message: "stopping the query (Ctrl-C again to quit now)")
        defer { handler.cancel() }
        do {
            print(try ResultsQuery.run(sql, in: directory(a, consumes: 1), format: format(a), timeout: timeout, cancellation: cancellation))
        } catch let error as QueryError {
            throw CLIError(error.description, exitCode: error.interrupted ? 130 : 1)
        }
    }

    static func runResults(_ args: [String]) throws {
        let a = try results.parse(args)
        guard let stage = a.options["stage"] else { throw CLIError("give the stage with --stage ID") }
        print(try StageResults.load(Store(readOnlyDirectory: directory(a, consumes: 0)), stageID: stage).render(format(a)))
    }

    static func runGC(_ args: [String]) throws {
        let a = try gc.parse(args)
        print(try GarbageCollector.collect(Store(existingDirectory: directory(a, consumes: 0)), keepAllRuns: a.flags.contains("keep-all-runs")).description)
    }

    static func runPack(_ args: [String]) throws {
        let a = try pack.parse(args)
        guard let out = a.options["out"] else { throw CLIError("give the pack's folder with --out DIR") }
        let limit = a.options["max-artifact-mib"] ?? "16"
        guard let mib = Double(limit), mib >= 0, mib <= 1_000_000_000 else {
            throw CLIError("--max-artifact-mib \(limit): expected a number of MiB in 0...1000000000")
        }
        let report = try StorePack.pack(Store(existingDirectory: directory(a, consumes: 0)), to: URL(fileURLWithPath: out),
                                        maxArtifactBytes: Int(mib * 1_048_576))
        print("packed into \(out): \(report)")
    }
}
