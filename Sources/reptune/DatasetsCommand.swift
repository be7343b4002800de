import CommandLineSpec
import Experiments
import Foundation
import Pipeline

/// `reptune datasets`: the dataset descriptors with the status of their files in the mirror (and which mirror, and
/// why); `datasets fetch` fills the mirror; `datasets sources` lists where each file comes from.
enum DatasetsCommand {
    static func run(_ a: ParsedArguments) throws {
        let repo = RepositoryLocation.root
        let mirror = DatasetMirror.locate(option: a.string("datasets"), environment: ProcessInfo.processInfo.environment,
                                          repository: repo)
        let catalog = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: repo))
        switch a.positional.first {
        case "fetch": try fetch(a, Array(a.positional.dropFirst()), catalog: catalog, mirror: mirror)
        case "sources": try sources(a, Array(a.positional.dropFirst()), catalog: catalog, mirror: mirror)
        default: try list(a, a.positional, catalog: catalog, mirror: mirror)
        }
    }

    struct Row: Encodable { var name: String; var status: String; var files: [String]; var licence: String; var source: String }
    struct Listing: Encodable { var mirror: String; var chosenBy: String; var datasets: [Row] }

    static func list(_ a: ParsedArguments, _ names: [String], catalog: DatasetCatalog, mirror: DatasetMirror) throws {
        let rows = try selected(names, catalog: catalog, mirror: mirror).map { descriptor in
            let s = DatasetCatalog(descriptors: [descriptor]).statuses(in: mirror, verify: !a.flag("quick"))[0]
            return Row(name: descriptor.name, status: "\(s.overall)", files: s.files.map { $0.url.path },
                       licence: descriptor.licence, source: descriptor.sourceURL)
        }
        if a.json { return try printJSON(Listing(mirror: mirror.root.path, chosenBy: "\(mirror.origin)", datasets: rows)) }
        print("mirror: \(mirror.root.path) (\(mirror.origin))")
        for r in rows {
            let names = r.files.map { URL(fileURLWithPath: $0).lastPathComponent }
            print(r.name.padding(toLength: 32, withPad: " ", startingAt: 0) + r.status.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + (names.count > 4 ? "\(names.count) files" : names.joined(separator: ", ")))
        }
        if rows.contains(where: { $0.status != "verified" && $0.status != "present" }) {
            print("`reptune datasets fetch [NAME…]` copies or downloads what is missing")
        }
    }

    struct SourceRow: Encodable { var dataset: String; var path: String; var url: String }

    static func sources(_ a: ParsedArguments, _ names: [String], catalog: DatasetCatalog, mirror: DatasetMirror) throws {
        let source = try DatasetSource(environment: ProcessInfo.processInfo.environment)
        let rows = try selected(names, catalog: catalog, mirror: mirror).flatMap { d in
            try d.files.map { SourceRow(dataset: d.name, path: $0.path, url: try source.url(of: $0, in: d).absoluteString) }
        }
        if a.json { return try printJSON(rows) }
        for r in rows { print("\(r.url)\t\(r.path)") }
    }

    struct FetchRow: Encodable { var path: String; var outcome: String; var ok: Bool }

    static func fetch(_ a: ParsedArguments, _ names: [String], catalog: DatasetCatalog, mirror: DatasetMirror) throws {
        let json = a.json
        var download = HTTPDownload()
        if let t = a.double("timeout") { download.timeout = t }
        let fetcher = DatasetFetcher(mirror: mirror, copySource: DatasetMirror.beside(repository: RepositoryLocation.root),
                                     source: try DatasetSource(environment: ProcessInfo.processInfo.environment),
                                     download: download)
        let datasets = try selected(names, catalog: catalog, mirror: mirror)
        if !json { FileHandle.standardOutput.write(Data("mirror: \(mirror.root.path) (\(mirror.origin))\n".utf8)) }
        let display = FetchDisplay(quiet: json)
        let results = fetcher.fetch(datasets, observe: display.show)
        if json { try printJSON(results.map { FetchRow(path: $0.file.path, outcome: "\($0.outcome)", ok: $0.outcome.succeeded) }) }
        let failed = results.filter { !$0.outcome.succeeded }
        if !json {
            let count = { (p: (DatasetFetcher.Outcome) -> Bool) in results.filter { p($0.outcome) }.count }
            FileHandle.standardOutput.write(Data(("\(results.count) file\(results.count == 1 ? "" : "s"): \(count { if case .downloaded = $0 { true } else { false } }) downloaded, "
                  + "\(count { if case .copied = $0 { true } else { false } }) copied, \(count { $0 == .present }) already there, "
                  + "\(failed.count) failed\n").utf8))
        }
        if !failed.isEmpty {
            var lines = failed.compactMap { if case .failed = $0.outcome { "  \($0.outcome)" } else { nil } }
            let skipped = Dictionary(grouping: failed.compactMap { if case .notTried(let host) = $0.outcome { host } else { nil } }) { $0 }
            lines += skipped.keys.sorted().map { "  \(skipped[$0]!.count) more files from \($0) not tried after it did not answer" }
            if failed.contains(where: { if case .failed(.checksumMismatch) = $0.outcome { true } else { false } }) {
                lines.append("a file already in the mirror with other contents is never replaced: remove it to fetch it again")
            }
            throw CLIError("\(failed.count) of \(results.count) file\(results.count == 1 ? "" : "s") not fetched:\n" + lines.joined(separator: "\n"), exitCode: 1)
        }
    }

    /// The descriptors named on the command line (dataset names, or manifests whose named datasets are taken);
    /// all of them when none is named.
    static func selected(_ names: [String], catalog: DatasetCatalog, mirror: DatasetMirror) throws -> [DatasetDescriptor] {
        guard !names.isEmpty else { return catalog.descriptors }
        var chosen: [String] = []
        for name in names {
            if name.hasSuffix(".json") {
                chosen += try manifestDatasets(name, catalog: catalog, mirror: mirror)
            } else {
                guard catalog.names.contains(name) else {
                    let hint = NearMiss.closest(to: name, in: catalog.names).map { " (did you mean \"\($0)\"?)" } ?? ""
                    throw CLIError("unknown dataset \"\(name)\"\(hint); known: \(catalog.names.joined(separator: ", "))")
                }
                chosen.append(name)
            }
        }
        return try chosen.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.map { try catalog.descriptor(named: $0) }
    }

    /// The dataset names a manifest uses (its files need not exist yet).
    static func manifestDatasets(_ path: String, catalog: DatasetCatalog, mirror: DatasetMirror) throws -> [String] {
        var options = RunCommand.manifestOptions(mirror: mirror, catalog: catalog)
        options.checkFiles = false
        options.requireModel = false
        do {
            return try Manifest.load(from: URL(fileURLWithPath: path), options: options).datasets.compactMap(\.catalogName)
        } catch {
            throw CLIError(error.description, exitCode: 1)
        }
    }
}

/// Fetch progress: on a terminal one live line per transfer (bar, KiB done/total, rate, ETA) replaced by its
/// outcome; otherwise a line when a transfer starts and one when each file ends.
final class FetchDisplay {
    private let quiet: Bool
    private let live = isatty(STDOUT_FILENO) != 0
    private var meter: ProgressMeter?
    private var lastDraw = 0.0

    init(quiet: Bool) { self.quiet = quiet }

    func show(_ event: DatasetFetcher.Event) {
        guard !quiet else { return }
        let now = Date().timeIntervalSince1970
        switch event {
        case .started(let file, let from, let copying):
            meter = ProgressMeter(total: max(1, file.bytes / 1024), done: 0, startTime: now, unit: "KiB")
            if !live { emit("\(file.path): \(copying ? "copying" : "downloading") \(from)\n") }
        case .progress(let file, let bytes, _):
            guard live, var m = meter, now - lastDraw >= 0.1 else { return }
            m.done = min(m.total, bytes / 1024)
            m.now = now
            meter = m
            lastDraw = now
            let width = 24, filled = min(width, m.done * width / m.total)
            emit("\r\u{1B}[2K\(file.path) [\(String(repeating: "█", count: filled))\(String(repeating: "·", count: width - filled))] \(m.description)")
        case .finished(let file, let outcome):
            meter = nil
            var result = outcome.succeeded ? "\(outcome) (\(file.bytes) bytes)" : "FAILED"
            if case .notTried = outcome { result = "not tried" }
            emit((live ? "\r\u{1B}[2K" : "") + "\(file.path): \(result)\n")
        }
    }

    private func emit(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
}
