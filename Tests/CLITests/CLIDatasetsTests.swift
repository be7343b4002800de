import Experiments
import Foundation
import Testing
import TestSupport

/// `reptune datasets` in a clone with no `../shared` beside it (a folder holding a copy of `datasets/`), its mirror
/// an empty `$REPTUNE_DATA`, and a loopback server standing in for GitHub (`$REPTUNE_DATA_SOURCE`).
@Suite(.enabled(if: CLI.executable != nil, CLI.missing))
struct CLIDatasetsTests {
    /// A clone-like folder (only `datasets/` is needed) and an empty mirror inside a fresh temporary folder.
    static func lonelyClone() throws -> (top: URL, clone: URL, mirror: URL) {
        let top = try Fixtures.temporaryDirectory("reptune-clone")
        let clone = top.appendingPathComponent("reptune"), mirror = top.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: clone, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.repoRoot.appendingPathComponent("datasets"), to: clone.appendingPathComponent("datasets"))
        return (top, clone, mirror)
    }

    /// A server answering each descriptor file's source address (without `https://`) with `body(real bytes)`.
    static func sourceServer(_ body: @escaping @Sendable (Data) -> Data) throws -> LocalHTTPServer {
        let catalog = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: Fixtures.repoRoot))
        var files: [String: URL] = [:]
        for d in catalog.descriptors {
            for f in d.files { files["/" + (try DatasetSource.origin(of: f, in: d).absoluteString.dropFirst("https://".count))] = Fixtures.mirror.url(for: f) }
        }
        return try LocalHTTPServer { [files] request in
            guard let url = files[request.path], let data = try? Data(contentsOf: url) else {
                return LocalHTTPServer.Response(status: 404, data: Data("404: Not Found".utf8))
            }
            return LocalHTTPServer.Response(data: body(data))
        }
    }

    @Test func listNamesTheMirrorAndWhyItWasChosen() throws {
        let (top, clone, mirror) = try Self.lonelyClone()
        defer { try? FileManager.default.removeItem(at: top) }
        let r = try CLI.run(["datasets", "--json"], environment: ["REPTUNE_DATA": mirror.path], directory: clone)
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(out["mirror"] as? String == mirror.path && out["chosenBy"] as? String == "$REPTUNE_DATA")
        let rows = try #require(out["datasets"] as? [[String: Any]])
        #expect(rows.count == 17 && rows.allSatisfy { $0["status"] as? String == "missing" })
        // Without the variable and without ../shared: the per-user cache.
        let cache = try CLI.run(["datasets", "--quick"], environment: ["XDG_CACHE_HOME": top.appendingPathComponent("cache").path],
                                unset: ["REPTUNE_DATA"], directory: clone)
        #expect(cache.stdout.contains("mirror: \(top.appendingPathComponent("cache/reptune/datasets").path) (the per-user cache under $XDG_CACHE_HOME)"), "\(cache.stdout)")
        let typo = try CLI.run(["datasets", "fetch", "gpt4_fact"], environment: ["REPTUNE_DATA": mirror.path], directory: clone)
        #expect(typo.status == 2 && typo.stderr.contains(#"did you mean "gpt4_facts"?"#), "\(typo.stderr)")
    }

    /// A manifest naming datasets that are not in the mirror is refused with the fetch command to run; `datasets
    /// fetch MANIFEST` downloads exactly those, verified; the manifest then plans.
    @Test(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
    func manifestDatasetsAreFetchedFromTheSources() throws {
        let (top, clone, mirror) = try Self.lonelyClone()
        defer { try? FileManager.default.removeItem(at: top) }
        let manifest = top.appendingPathComponent("m.json")
        try Data(#"""
            {"name": "m", "datasets": {"gpt4": {"dataset": "gpt4_facts", "splits": {"few": {"rows": [0, 4]}}}},
             "stages": [{"id": "e", "kind": "evaluate", "params": {"task": "facts", "dataset": "gpt4:few"}}]}
            """#.utf8).write(to: manifest)
        let env = ["REPTUNE_DATA": mirror.path]
        let before = try CLI.run(["run", manifest.path, "--dry-run", "--results", top.appendingPathComponent("runs").path], environment: env, directory: clone)
        #expect(before.status == 1 && before.stderr.contains("datasets.gpt4.dataset")
                && before.stderr.contains("run `reptune datasets fetch gpt4_facts`"), "\(before.stderr)")

        let server = try Self.sourceServer { $0 }
        defer { server.stop() }
        let fetch = try CLI.run(["datasets", "fetch", manifest.path], environment: env.merging(["REPTUNE_DATA_SOURCE": server.baseURL]) { $1 },
                                directory: clone)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(fetch.stdout.contains("gpt4_facts/gpt4_facts.csv: downloaded from \(server.baseURL)/raw.githubusercontent.com/cma1114/representation_tuning/0f4b3deb75477edae806cf263c64c048d8f53660/data/gpt4_facts.csv, sha256 verified"), "\(fetch.stdout)")
        #expect(fetch.stdout.contains("2 files: 2 downloaded, 0 copied, 0 already there, 0 failed"), "\(fetch.stdout)")
        #expect(server.requests.count == 2)
        let after = try CLI.run(["run", manifest.path, "--dry-run", "--results", top.appendingPathComponent("runs").path], environment: env, directory: clone)
        #expect(after.status == 0 && after.stdout.contains("plan for m"), "\(after.stderr)")
    }

    /// Wrong bytes from the source: exit 1, the message names the file, the address and both hashes, and the
    /// mirror holds nothing (no partial file, no temporary one).
    @Test(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
    func mismatchIsRefusedAndLeavesNothing() throws {
        let (top, clone, mirror) = try Self.lonelyClone()
        defer { try? FileManager.default.removeItem(at: top) }
        let server = try Self.sourceServer { data in var d = data; d[d.startIndex] ^= 0x20; return d }
        defer { server.stop() }
        let r = try CLI.run(["datasets", "fetch", "morally_ambiguous"], environment: ["REPTUNE_DATA": mirror.path, "REPTUNE_DATA_SOURCE": server.baseURL],
                            directory: clone)
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(mirror.path)/morally_ambiguous_qs/morally_ambiguous_qs.txt: the file from \(server.baseURL)/raw.githubusercontent.com/cma1114/representation_tuning/0f4b3deb75477edae806cf263c64c048d8f53660/data/morally_ambiguous_qs.txt has sha256 "), "\(r.stderr)")
        #expect(r.stderr.contains("expected 978f21fb18ee5365f501b01788d7e8c5e3b0d21f57d610102797a5f0a5449e3e; refused, nothing was written"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mirror.path).isEmpty)
    }
}
