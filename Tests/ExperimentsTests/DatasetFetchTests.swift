import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// `DatasetFetcher` against a loopback server standing in for GitHub (`$REPTUNE_DATA_SOURCE`): a good file, a
/// redirect, a truncated body, wrong bytes, a 404, a stall, an oversized body, an unreachable host, copies from a
/// sibling mirror, and a file already in the mirror. Every failure names the file and the address and leaves
/// nothing in the mirror.
@Suite struct DatasetFetchTests {
    /// A small dataset of two files with made-up contents, from a GitHub-like source.
    struct Fixture {
        let good = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let small = Data("statement,label\nThe sky is blue.,1\n".utf8)
        var descriptor: DatasetDescriptor {
            DatasetDescriptor(name: "toy", title: "toy", sourceURL: "https://github.com/someone/toy-data", sourceCommit: "c0ffee",
                              licence: "none", parser: "true-false-statements", files: [
                                  DatasetFileDescriptor(role: "data", path: "toy/data.bin", sourcePath: "data/data.bin",
                                                        sha256: SHA256.hex(of: good), bytes: good.count, format: "binary"),
                                  DatasetFileDescriptor(role: "small", path: "toy/small.csv", sourcePath: "data/small.csv",
                                                        sourceCommit: "beef", sha256: SHA256.hex(of: small), bytes: small.count,
                                                        format: "csv"),
                              ])
        }
        static let dataPath = "/raw.githubusercontent.com/someone/toy-data/c0ffee/data/data.bin"
        static let smallPath = "/raw.githubusercontent.com/someone/toy-data/beef/data/small.csv"
    }

    let fixture = Fixture()

    /// Serves `data.bin` as `answer` says and `small.csv` correctly; returns the outcomes and the mirror.
    func fetch(timeout: Double = 10, copySource: DatasetMirror? = nil, prepare: (URL) throws -> Void = { _ in },
               answer: @escaping @Sendable (Data) -> LocalHTTPServer.Response) throws
        -> (outcomes: [DatasetFetcher.Outcome], mirror: URL, requests: [String]) {
        let good = fixture.good, small = fixture.small
        let server = try LocalHTTPServer { request in
            switch request.path {
            case Fixture.dataPath: answer(good)
            case Fixture.smallPath: LocalHTTPServer.Response(data: small)
            case "/moved/data.bin": LocalHTTPServer.Response(data: good)
            default: LocalHTTPServer.Response(status: 404, data: Data("404: Not Found".utf8))
            }
        }
        defer { server.stop() }
        let root = try Fixtures.temporaryDirectory("reptune-mirror")
        try prepare(root)
        let fetcher = DatasetFetcher(mirror: DatasetMirror(root: root), copySource: copySource,
                                     source: DatasetSource(standIn: URL(string: server.baseURL)!),
                                     download: HTTPDownload(timeout: timeout))
        let outcomes = fetcher.fetch([fixture.descriptor]).map(\.outcome)
        return (outcomes, root, server.requests.map(\.path))
    }

    /// Every file under `root` (hidden ones included), relative.
    func files(_ root: URL) -> [String] {
        (FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []).filter {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }

    func failure(_ outcome: DatasetFetcher.Outcome) -> String? { if case .failed(let e) = outcome { e.description } else { nil } }

    @Test func goodFilesAreDownloadedVerifiedAndKept() throws {
        let (outcomes, root, requests) = try fetch { LocalHTTPServer.Response(data: $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(outcomes.allSatisfy { $0.succeeded }, "\(outcomes)")
        #expect(requests == [Fixture.dataPath, Fixture.smallPath])   // the per-file commit is in the address
        #expect(try Data(contentsOf: root.appendingPathComponent("toy/data.bin")) == fixture.good)
        #expect(files(root) == ["toy/data.bin", "toy/small.csv"])      // no .incoming left behind
        // A second fetch finds both verified and asks nothing.
        let again = DatasetFetcher(mirror: DatasetMirror(root: root), copySource: nil,
                                   source: DatasetSource(standIn: URL(string: "http://127.0.0.1:9")!)).fetch([fixture.descriptor])
        #expect(again.map(\.outcome) == [.present, .present])
    }

    @Test func redirectIsFollowed() throws {
        let (outcomes, root, requests) = try fetch { _ in .redirect(to: "/moved/data.bin") }
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(outcomes[0].succeeded, "\(outcomes[0])")
        #expect(requests.contains("/moved/data.bin"))
        #expect(try Data(contentsOf: root.appendingPathComponent("toy/data.bin")) == fixture.good)
    }

    @Test func truncatedBodyIsRefusedAndLeavesNothing() throws {
        let (outcomes, root, _) = try fetch { LocalHTTPServer.Response(data: $0, sendOnly: 2000) }
        defer { try? FileManager.default.removeItem(at: root) }
        let message = try #require(failure(outcomes[0]))
        #expect(message.contains("toy/data.bin") && message.contains(Fixture.dataPath), "\(message)")
        #expect(message.contains("2000 of 5000 bytes") && message.contains("nothing was written"), "\(message)")
        #expect(outcomes[1].succeeded)                                 // the other file still comes
        #expect(files(root) == ["toy/small.csv"])
    }

    @Test func wrongBytesAreRefusedWithBothHashes() throws {
        let wrong = Data(repeating: 0x41, count: 5000)
        let (outcomes, root, _) = try fetch { _ in LocalHTTPServer.Response(data: wrong) }
        defer { try? FileManager.default.removeItem(at: root) }
        guard case .failed(.fetchedMismatch(let path, let source, let expected, let found)) = outcomes[0] else {
            Issue.record("expected a sha256 refusal, got \(outcomes[0])"); return
        }
        #expect(path == root.appendingPathComponent("toy/data.bin").path)
        #expect(source.hasSuffix(Fixture.dataPath))
        #expect(expected == SHA256.hex(of: fixture.good) && found == SHA256.hex(of: wrong))
        #expect(files(root) == ["toy/small.csv"])
    }

    @Test func notFoundNamesTheStatusAndAddress() throws {
        let (outcomes, root, _) = try fetch { _ in LocalHTTPServer.Response(status: 404, data: Data("404: Not Found".utf8)) }
        defer { try? FileManager.default.removeItem(at: root) }
        let message = try #require(failure(outcomes[0]))
        #expect(message.contains("HTTP 404") && message.contains(Fixture.dataPath), "\(message)")
        #expect(files(root) == ["toy/small.csv"])
    }

    @Test func stalledServerTimesOut() throws {
        let started = Date()
        let (outcomes, root, _) = try fetch(timeout: 1) { LocalHTTPServer.Response(data: $0, sendOnly: 1000, stall: 4) }
        defer { try? FileManager.default.removeItem(at: root) }
        let message = try #require(failure(outcomes[0]))
        #expect(message.contains("the server stalled: no byte for 1 s (the timeout) after 1000 of 5000 bytes"), "\(message)")
        #expect(Date().timeIntervalSince(started) < 3.9, "the download waited for the server instead of timing out")
        #expect(!files(root).contains("toy/data.bin"))
    }

    @Test func oversizedBodyIsCutOff() throws {
        let (outcomes, root, _) = try fetch { LocalHTTPServer.Response(data: $0 + $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        let message = try #require(failure(outcomes[0]))
        #expect(message.contains("more than the 5000 bytes expected"), "\(message)")
        #expect(files(root) == ["toy/small.csv"])
    }

    @Test func unreachableHostIsTriedOnce() throws {
        let closed = try LocalHTTPServer { _ in LocalHTTPServer.Response(body: "") }
        let base = closed.baseURL
        closed.stop()
        let root = try Fixtures.temporaryDirectory("reptune-mirror")
        defer { try? FileManager.default.removeItem(at: root) }
        let outcomes = DatasetFetcher(mirror: DatasetMirror(root: root), copySource: nil,
                                      source: DatasetSource(standIn: URL(string: base)!)).fetch([fixture.descriptor]).map(\.outcome)
        let message = try #require(failure(outcomes[0]))
        #expect(message.contains("cannot reach the server") && message.contains(Fixture.dataPath), "\(message)")
        #expect(outcomes[1] == .notTried(host: "127.0.0.1"))
        #expect(files(root).isEmpty)
    }

    @Test func siblingMirrorIsCopiedWhenItsBytesAreRight() throws {
        let sibling = try Fixtures.temporaryDirectory("reptune-sibling")
        defer { try? FileManager.default.removeItem(at: sibling) }
        try FileManager.default.createDirectory(at: sibling.appendingPathComponent("toy"), withIntermediateDirectories: true)
        try fixture.good.write(to: sibling.appendingPathComponent("toy/data.bin"))
        try Data("tampered".utf8).write(to: sibling.appendingPathComponent("toy/small.csv"))
        let (outcomes, root, requests) = try fetch(copySource: DatasetMirror(root: sibling)) { LocalHTTPServer.Response(data: $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(outcomes[0] == .copied(from: sibling.path))
        #expect(outcomes[1].succeeded && requests == [Fixture.smallPath])   // the tampered copy is not used
        #expect(try Data(contentsOf: root.appendingPathComponent("toy/small.csv")) == fixture.small)
        #expect(files(root) == ["toy/data.bin", "toy/small.csv"])
    }

    @Test func aDifferentFileInTheMirrorIsNeverReplaced() throws {
        let (outcomes, root, requests) = try fetch(prepare: { root in
            try FileManager.default.createDirectory(at: root.appendingPathComponent("toy"), withIntermediateDirectories: true)
            try Data("mine".utf8).write(to: root.appendingPathComponent("toy/data.bin"))
        }) { LocalHTTPServer.Response(data: $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(failure(outcomes[0])?.contains("sha256 mismatch") == true)
        #expect(!requests.contains(Fixture.dataPath))
        #expect(try Data(contentsOf: root.appendingPathComponent("toy/data.bin")) == Data("mine".utf8))
    }

    /// What a killed fetch left under `.incoming/` goes at the next fetch; a live process's file stays.
    @Test func staleIncomingFilesAreRemoved() throws {
        let (_, root, _) = try fetch(prepare: { root in
            let incoming = root.appendingPathComponent(".incoming")
            try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
            try Data("partial".utf8).write(to: incoming.appendingPathComponent("999999999-dead-data.bin"))
            try Data("live".utf8).write(to: incoming.appendingPathComponent("1-init-data.bin"))
        }) { LocalHTTPServer.Response(data: $0) }
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(files(root) == [".incoming/1-init-data.bin", "toy/data.bin", "toy/small.csv"])
    }
}

/// Download addresses, the mirror's location, and what a manifest reads of a named dataset.
@Suite struct DatasetSourceTests {
    let descriptor = DatasetDescriptor(
        name: "d", title: "d", sourceURL: "https://github.com/owner/repo", sourceCommit: "abc", licence: "MIT",
        parser: "x", files: [DatasetFileDescriptor(role: "data", path: "d/a b.csv", sourcePath: "data/a b.csv", sha256: "0", bytes: 1, format: "csv"),
                             DatasetFileDescriptor(role: "other", path: "d/o.txt", sourcePath: "o.txt", sourceCommit: "def", sha256: "0", bytes: 1, format: "text"),
                             DatasetFileDescriptor(role: "direct", path: "e/x.txt", url: "https://example.org/files/x.txt", sha256: "0", bytes: 1, format: "text")])

    @Test func addressesAreRawGitHubAtThePinnedCommitOrTheGivenURL() throws {
        let origin = DatasetSource()
        #expect(try origin.url(of: descriptor.files[0], in: descriptor).absoluteString
            == "https://raw.githubusercontent.com/owner/repo/abc/data/a%20b.csv")
        #expect(try origin.url(of: descriptor.files[1], in: descriptor).absoluteString == "https://raw.githubusercontent.com/owner/repo/def/o.txt")
        #expect(try origin.url(of: descriptor.files[2], in: descriptor).absoluteString == "https://example.org/files/x.txt")
        let standIn = try DatasetSource(environment: ["REPTUNE_DATA_SOURCE": "http://127.0.0.1:8765/"])
        #expect(try standIn.url(of: descriptor.files[1], in: descriptor).absoluteString
            == "http://127.0.0.1:8765/raw.githubusercontent.com/owner/repo/def/o.txt")
        #expect(try standIn.url(of: descriptor.files[2], in: descriptor).absoluteString == "http://127.0.0.1:8765/example.org/files/x.txt")
        #expect(try DatasetSource(environment: [:]) == origin)
        #expect(throws: DatasetError.self) { try DatasetSource(environment: ["REPTUNE_DATA_SOURCE": "ftp://host/x"]) }
        var noCommit = descriptor
        noCommit.sourceCommit = nil
        #expect(throws: DatasetError.self) { try origin.url(of: noCommit.files[0], in: noCommit) }
    }

    /// Every descriptor in `datasets/` has a download address.
    @Test func everyDescriptorFileHasASource() throws {
        let catalog = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: Fixtures.repoRoot))
        for d in catalog.descriptors {
            for f in d.files { #expect(throws: Never.self) { _ = try DatasetSource.origin(of: f, in: d) } }
        }
    }

    @Test func mirrorIsTheOptionThenTheVariableThenTheSiblingThenTheCache() throws {
        let top = try Fixtures.temporaryDirectory("reptune-locate")
        defer { try? FileManager.default.removeItem(at: top) }
        let repo = top.appendingPathComponent("reptune")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        let env = ["REPTUNE_DATA": "/data/mirror", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/me"]
        let option = DatasetMirror.locate(option: "/opt/m", environment: env, repository: repo)
        #expect(option.root.path == "/opt/m" && option.origin == .option)
        let variable = DatasetMirror.locate(option: nil, environment: env, repository: repo)
        #expect(variable.root.path == "/data/mirror" && variable.origin == .environment)
        var noVariable = env
        noVariable["REPTUNE_DATA"] = nil
        #expect(DatasetMirror.locate(option: nil, environment: noVariable, repository: repo).root.path == "/xdg/reptune/datasets")
        noVariable["XDG_CACHE_HOME"] = "relative/cache"   // not absolute: ignored, as the XDG spec says
        let home = DatasetMirror.locate(option: nil, environment: noVariable, repository: repo)
        #expect(home.root.path == "/home/me/.cache/reptune/datasets" && home.origin == .userCache(variable: nil))
        try FileManager.default.createDirectory(at: top.appendingPathComponent("shared/datasets"), withIntermediateDirectories: true)
        let sibling = DatasetMirror.locate(option: nil, environment: noVariable, repository: repo)
        #expect(sibling.root.standardizedFileURL.path == top.appendingPathComponent("shared/datasets").standardizedFileURL.path)
        #expect(sibling.origin == .besideRepository)
    }

    @Test func entryIsTheDataFileTheOnlyFileTheFolderOrANamedRole() throws {
        #expect(try descriptor.entry(role: nil).path == "d/a b.csv")
        #expect(try descriptor.entry(role: "other").path == "d/o.txt")
        #expect(throws: DatasetError.noSuchFileRole(dataset: "d", role: "nope", available: ["data", "other", "direct"])) {
            try descriptor.entry(role: "nope")
        }
        var folder = descriptor
        folder.files = Array(descriptor.files.dropFirst().prefix(1)) + [DatasetFileDescriptor(role: "more", path: "d/m.txt", sha256: "0", bytes: 1, format: "text")]
        let entry = try folder.entry(role: nil)
        #expect(entry.path == "d" && entry.isFolder && entry.files == folder.files)
        folder.files.append(descriptor.files[2])   // e/x.txt: now two folders
        #expect(throws: DatasetError.needsRole(dataset: "d", available: ["other", "more", "direct"])) { try folder.entry(role: nil) }
    }
}
