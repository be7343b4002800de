import Foundation
import ModelFormats
import Pipeline
import Testing
import TestSupport

/// The code is in the key: each stage kind's `version` is in its cache key, and this suite fails when the source
/// files a kind declares change while its version does not. `Tests/StageCodeVersions.json` records, per kind, the
/// version and the digest of its sources (comments, blank lines and indentation left out) that version was
/// reviewed at.
@Suite("Stage code versions", .serialized)
struct StageCodeTests {
    static let tableURL = Fixtures.repoRoot.appendingPathComponent("Tests/StageCodeVersions.json")
    static let sources = Fixtures.repoRoot.appendingPathComponent("Sources")
    static let regenerate = "REPTUNE_WRITE_STAGE_CODE=1 swift test -c release --filter StageCodeTests"

    struct Entry: Codable, Equatable {
        var version: Int
        var sha256: String
    }

    /// The digest of a kind's source files: each file's path and its lines, trimmed, without blank and comment-only
    /// lines (a doc comment edit is not a code change). Directories stand for their `.swift` files.
    static func digest(_ paths: [String], root: URL) throws -> String {
        var files: [String] = []
        for path in paths {
            let url = root.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw StoreError("a declared source of a stage kind does not exist: Sources/\(path)")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.subpathsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".swift") }
                files += names.map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        var text = ""
        for file in Set(files).sorted() {
            text += "== \(file)\n"
            for line in try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8).split(separator: "\n") {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.isEmpty || code.hasPrefix("//") { continue }
                text += code + "\n"
            }
        }
        return SHA256.hex(ofUTF8: text)
    }

    /// The problems of `table` against the kinds' current versions and sources under `root`: [] when every kind's
    /// sources hash as recorded for its version.
    static func problems(table: [String: Entry], versions: [String: (version: Int, sources: [String])], root: URL) throws -> [String] {
        var problems: [String] = []
        for (kind, current) in versions.sorted(by: { $0.key < $1.key }) {
            let sha = try digest(current.sources, root: root)
            guard let recorded = table[kind] else {
                problems.append("\(kind): not in Tests/StageCodeVersions.json; record it with \(regenerate)")
                continue
            }
            if current.version < recorded.version {
                problems.append("\(kind): version \(current.version) is below the recorded \(recorded.version); versions only go up")
            } else if current.version > recorded.version {
                problems.append("\(kind): version \(recorded.version) → \(current.version); record the new version's sources with \(regenerate)")
            } else if sha != recorded.sha256 {
                problems.append("\(kind): its code changed (\(current.sources.joined(separator: ", "))) but its version is still "
                    + "\(current.version). If the change can alter a stored result, bump `version` in its StageDeclaration (cached "
                    + "results of the old code are then recomputed); if it cannot, record the new sources with \(regenerate)")
            }
        }
        for kind in table.keys.sorted() where versions[kind] == nil { problems.append("\(kind): recorded but no longer declared") }
        return problems
    }

    static var declared: [String: (version: Int, sources: [String])] {
        Dictionary(uniqueKeysWithValues: StageDeclaration.all.map { ($0.kind.rawValue, ($0.version, $0.sources)) })
    }

    static func readTable() throws -> [String: Entry] {
        try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: tableURL))
    }

    init() throws {
        if ProcessInfo.processInfo.environment["REPTUNE_WRITE_STAGE_CODE"] == "1" {
            var table: [String: Entry] = [:]
            for (kind, current) in Self.declared { table[kind] = Entry(version: current.version, sha256: try Self.digest(current.sources, root: Self.sources)) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try (encoder.encode(table) + Data("\n".utf8)).write(to: Self.tableURL, options: .atomic)
        }
    }

    @Test func everyKindsCodeIsRecordedAtItsVersion() throws {
        let problems = try Self.problems(table: Self.readTable(), versions: Self.declared, root: Self.sources)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// A copy of the sources where one line of `perplexity`'s runner changes: the check fails until the version is
    /// bumped, and a comment edit alone passes.
    @Test func aChangedKindWithoutANewVersionFails() throws {
        let root = try Fixtures.temporaryDirectory("stage-code")
        defer { try? FileManager.default.removeItem(at: root) }
        let kind = StageDeclaration.perplexity
        for path in kind.sources {
            let to = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.sources.appendingPathComponent(path), to: to)
        }
        let table = try Self.readTable().filter { $0.key == "perplexity" }
        let versions = Self.declared.filter { $0.key == "perplexity" }
        #expect(try Self.problems(table: table, versions: versions, root: root).isEmpty)

        let runner = root.appendingPathComponent("Pipeline/Stages/PerplexityStage.swift")
        let original = try String(contentsOf: runner, encoding: .utf8)
        try (original + "\n    // a note\n").write(to: runner, atomically: true, encoding: .utf8)
        #expect(try Self.problems(table: table, versions: versions, root: root).isEmpty, "a comment is not a code change")

        let edited = original.replacingOccurrences(of: "batch: 2)", with: "batch: 4)")
        #expect(edited != original)
        try edited.write(to: runner, atomically: true, encoding: .utf8)
        let problems = try Self.problems(table: table, versions: versions, root: root)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("perplexity: its code changed") == true, "\(problems)")
        #expect(problems.first?.contains("but its version is still \(kind.version)") == true, "\(problems)")
        #expect(problems.first?.contains(Self.regenerate) == true)

        // Bumped, the kind asks for its new sources to be recorded.
        let bumped = try Self.problems(table: table, versions: ["perplexity": (kind.version + 1, kind.sources)], root: root)
        #expect(bumped == ["perplexity: version \(kind.version) → \(kind.version + 1); record the new version's sources with \(Self.regenerate)"])
    }

    /// The version is in the key from version 2 on: version 1 keeps the keys results were stored under.
    @Test func theCodeVersionIsInTheKey() throws {
        let params = StageParams(["window": .int(64)])
        func key(_ version: Int) -> StageKey {
            StageKey(kind: .perplexity, codeVersion: version, params: params, inputKeys: [], modelSHA256: "m", modelTemplate: nil,
                     datasets: [], engineVersion: 2)
        }
        #expect(!key(1).material.contains("\"code\""))
        #expect(key(2).material.contains("\"code\":2"))
        #expect(Set([key(1).hex, key(2).hex, key(3).hex]).count == 3)
        #expect(StageKey(kind: .perplexity, params: params, inputKeys: [], modelSHA256: "m", modelTemplate: nil, datasets: [],
                         engineVersion: 2) == key(1))
    }
}

/// `run --dry-run` says why a stage that was stored under another key is computed again.
@Suite("Recompute reasons")
struct RecomputeReasonTests {
    @Test func theDryRunExplainsEachRecompute() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        #expect(try Arith.plan(dir).stages.allSatisfy { $0.action == .cached && $0.recomputeReasons.isEmpty })

        // A grid edit: the sweep's params and, downstream, the report's input.
        try Data(Arith.manifest(multipliers: "[-2, 1, 4]").utf8).write(to: dir.appendingPathComponent("manifest.json"))
        let edited = try Arith.plan(dir)
        #expect(edited.stage("sweep")?.recomputeReasons == ["params changed: multipliers [-2,1,3] → [-2,1,4]"])
        #expect(edited.stage("rep")?.recomputeReasons == ["input changed: from ← sweep, ppl"])
        #expect(edited.stage("ppl")?.recomputeReasons == [])
        #expect(edited.description.contains("because params changed: multipliers [-2,1,3] → [-2,1,4]"), "\(edited)")

        // Another engine and another model file: every stage says so.
        let engine = try Arith.plan(dir, engine: 2)
        #expect(engine.stage("ppl")?.recomputeReasons == ["engine version 1 → 2"])
        try Arith.writeModelHeader(to: dir.appendingPathComponent("model.gguf"), blocks: 5)
        #expect(try Arith.plan(dir).stage("acts")?.recomputeReasons == ["model file changed"])

        // A dataset edit.
        try Data("1\n2\n3\n5\n".utf8).write(to: dir.appendingPathComponent("nums.txt"))
        #expect(try Arith.plan(dir).stage("ppl")?.recomputeReasons == ["model file changed", "dataset changed: nums"])
    }

    @Test func aNewCodeVersionIsNamed() throws {
        func material(_ version: Int) -> String {
            StageKey(kind: .tune, codeVersion: version, params: StageParams(["seed": .int(0)]), inputKeys: [], modelSHA256: "m",
                     modelTemplate: nil, datasets: [], engineVersion: 2).material
        }
        let spec = try #require(try Samples.decode(Samples.full).stages.first { $0.kind == .tune })
        #expect(RecomputeReasons.between(material(3), material(4), spec: spec) == ["stage code version 3 → 4"])
        #expect(RecomputeReasons.between(material(1), material(2), spec: spec) == ["stage code version 1 → 2"])
    }
}
