import CommandLineSpec
import Foundation
import Pipeline

/// `reptune status|query|results|gc|pack [DIR]`: read (or tidy, or copy) a results directory's store.
enum StoreCommands {
    /// The results directory: the first positional argument if the command has more than `consumes` of them (it
    /// must then be a directory), else `runs/`'s only run, else the working directory.
    static func directory(_ a: ParsedArguments, consumes count: Int) throws -> URL {
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

    /// `--format` (a `TableFormat` name), `json` with `--json`.
    static func format(_ a: ParsedArguments) -> TableFormat {
        a.json ? .json : TableFormat(rawValue: a.string("format") ?? "table") ?? .table
    }

    static func status(_ a: ParsedArguments) throws {
        print(try RunStatus.load(Store(readOnlyDirectory: directory(a, consumes: 0))).description)
    }

    static func query(_ a: ParsedArguments) throws {
        let sql = a.positional[a.positional.count - 1]
        let cancellation = CancellationFlag()
        let handler = cancellation.installInterruptHandler(message: "stopping the query (Ctrl-C again to quit now)")
        defer { handler.cancel() }
        do {
            print(try ResultsQuery.run(sql, in: directory(a, consumes: 1), format: format(a), timeout: a.double("timeout"),
                                       cancellation: cancellation))
        } catch let error as QueryError {
            throw CLIError(error.description, exitCode: error.interrupted ? 130 : 1)
        }
    }

    static func results(_ a: ParsedArguments) throws {
        let stage = a.string("stage")!   // required
        print(try StageResults.load(Store(readOnlyDirectory: directory(a, consumes: 0)), stageID: stage).render(format(a)))
    }

    static func gc(_ a: ParsedArguments) throws {
        print(try GarbageCollector.collect(Store(existingDirectory: directory(a, consumes: 0)), keepAllRuns: a.flag("keep-all-runs")).description)
    }

    static func pack(_ a: ParsedArguments) throws {
        let out = a.string("out")!   // required
        let mib = a.double("max-artifact-mib") ?? 16
        let report = try StorePack.pack(Store(existingDirectory: directory(a, consumes: 0)), to: URL(fileURLWithPath: out),
                                        maxArtifactBytes: Int(mib * 1_048_576))
        print("packed into \(out): \(report)")
    }
}
