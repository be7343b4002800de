import Engine
import Foundation
import ModelFormats
import Pipeline
import Testing
import TestSupport

/// The command-line holes issue 22's audit found, each by the case it reported: every one now ends at once with
/// exit status 1 or 2 and an error naming the option, file or JSON path, never a hang, a crash or a side effect.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing))
struct CLIHardeningTests {
    static func temporary() throws -> URL { try Fixtures.temporaryDirectory("cli-hardening") }

    func expect(_ r: CLI.Outcome, status: Int32, mentions: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(!r.timedOut && !r.signalled && r.status == status, "\(r)", sourceLocation: sourceLocation)
        for m in mentions { #expect(r.stderr.contains(m), "stderr should mention \"\(m)\": \(r.stderr)", sourceLocation: sourceLocation) }
    }

    /// Case 2: `generate --max-tokens 9223372036854775807` never returned (the context check wrapped around).
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func aTokenBudgetThatWouldWrapIsRefused() throws {
        expect(try CLI.run(["generate", "--prompt", "hi", "--max-tokens", "9223372036854775807"], timeout: 30), status: 2,
               mentions: ["--max-tokens 9223372036854775807: expected an integer in 1...1048576"])
        expect(try CLI.run(["generate", "--prompt", "hi", "--max-tokens", "9000"], timeout: 60), status: 1,
               mentions: ["+ 9000 to generate, more than the model's context of 8192 tokens"])
    }

    /// Case 4: a manifest whose dataset or model is `/dev/zero` hung `--dry-run` (and ignored Ctrl-C); `--chat
    /// /dev/zero` read forever too.
    @Test func devicesAreRefusedAtOnce() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = dir.appendingPathComponent("m.json")
        for (model, dataset, path) in [("smollm2-135m-instruct", "/dev/zero", "datasets.d.path"), ("/dev/zero", "d.txt", "model")] {
            try Data("""
            {"name": "dev", "model": "\(model)", "datasets": {"d": "\(dataset)"},
             "stages": [{"id": "p", "kind": "perplexity", "params": {"dataset": "d"}}]}
            """.utf8).write(to: manifest)
            try Data("some text\n".utf8).write(to: dir.appendingPathComponent("d.txt"))
            expect(try CLI.run(["run", manifest.path, "--dry-run", "--results", dir.appendingPathComponent("r").path], timeout: 30),
                   status: 1, mentions: [path, "a character device: /dev/zero"])
        }
        if Fixtures.hasModel {
            expect(try CLI.run(["generate", "--chat", "/dev/zero"], timeout: 60), status: 1, mentions: ["--chat /dev/zero", "a character device"])
        }
    }

    /// Case 6: `--mult 1e308` said "expected a number"; a `--steer` file of 1e308s, or a multiplier that overflows
    /// the activations, generated empty text "successfully".
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func overflowingSteeringIsNamedNotSilent() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let huge = dir.appendingPathComponent("huge.json"), ones = dir.appendingPathComponent("ones.json")
        try Data(("[" + Array(repeating: "1e308", count: 576).joined(separator: ",") + "]").utf8).write(to: huge)
        try Data(("[" + Array(repeating: "1", count: 576).joined(separator: ",") + "]").utf8).write(to: ones)
        expect(try CLI.run(["generate", "--prompt", "hi", "--steer", ones.path, "--layer", "3", "--mult", "1e308"], timeout: 60),
               status: 2, mentions: ["--mult 1e308: expected a finite fp32 number"])
        expect(try CLI.run(["generate", "--prompt", "hi", "--steer", huge.path, "--layer", "3"], timeout: 60), status: 1,
               mentions: [huge.path, "value 0 (1e+308) is not a finite fp32 number"])
        expect(try CLI.run(["generate", "--prompt", "hi", "--max-tokens", "3", "--steer", ones.path, "--layer", "3", "--mult", "1e30"], timeout: 60),
               status: 1, mentions: ["the activations became non-finite", "steering block 3's output with multiplier 1e+30", "--mult"])
    }

    /// A results directory whose store holds one finished `vectors` stage with directions for blocks 0…5.
    static func vectorsStore(_ dir: URL) throws -> URL {
        let results = dir.appendingPathComponent("results")
        let store = try Store(directory: results)
        let manifest = try Manifest.decode(#"{"name": "v", "datasets": {"cv": "cv.gguf"}, "stages": [{"id": "vecs", "kind": "vectors", "params": {"import": "cv"}}]}"#,
                                           baseDirectory: dir, options: ManifestOptions(checkFiles: false))
        let claimer = Claimer()
        let run = try store.beginRun(manifest: manifest, claimer: claimer)
        try store.ensureStage(key: "k", stageID: "vecs", kind: .vectors, paramsJSON: "{}", keyJSON: "{}", cells: [SweepCell(index: 0, coordinates: [])])
        try store.recordRunStages(run, stages: [("vecs", "k")])
        let cell = try #require(try store.claimCells("k", limit: 1, claimer: claimer).first)
        let vectors = ControlVectorFile(directions: Dictionary(uniqueKeysWithValues: (0...5).map { l in (l, (0..<16).map { Float(l) + Float($0) / 16 }) }))
        let ref = try store.writeArtifact { try vectors.write(to: $0, layerCount: 6) }
        try store.commitCell("k", cell, CellResult(artifacts: ["vectors": ref]), claimer: claimer)
        try store.setStageStatus("k", .done)
        try store.finishRun(run, status: "done")
        return results
    }

    /// Case 10: an exported vectors stage held `direction.0`, and llama.cpp refused the whole file.
    @Test func exportWritesOnlyWhatLlamaCppLoads() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = try Self.vectorsStore(dir)
        let out = dir.appendingPathComponent("cvec.gguf")
        let r = try CLI.run(["export", results.path, "--stage", "vecs", "--out", out.path], timeout: 30)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("directions for blocks 1, 2, 3, 4, 5") && r.stdout.contains("left out block 0's direction"), "\(r.stdout)")
        #expect(try LlamaCppControlVectorRules.problems(out, width: 16, blocks: 6) == [])
        expect(try CLI.run(["export", results.path, "--stage", "vecs", "--out", out.path, "--layers", "0,3"], timeout: 30), status: 1,
               mentions: ["--layers: block 0: llama.cpp numbers control-vector directions from 1"])
        let picked = try CLI.run(["export", results.path, "--stage", "vecs", "--out", out.path, "--layers", "3"], timeout: 30)
        #expect(picked.status == 0 && picked.stdout.contains("directions for blocks 3\n") && !picked.stdout.contains("left out"), "\(picked)")
        #expect(try ControlVectorFile(contentsOf: out).directions.keys.sorted() == [3])
    }

    /// Case 9: `query` ignored Ctrl-C on a statement that never ends (one ran 14 minutes), had no `--timeout`, and
    /// empty SQL said "SQLite error 0 … not an error".
    @Test func queryStopsOnItsTimeoutAndOnCtrlC() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = try Self.vectorsStore(dir)
        let endless = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
        expect(try CLI.run(["query", results.path, endless, "--timeout", "1"], timeout: 30), status: 1,
               mentions: ["the query was stopped after 1s (--timeout 1)"])
        expect(try CLI.run(["query", results.path, endless], timeout: 30, signal: SIGINT, signalAfter: 1.5), status: 130,
               mentions: ["the query was interrupted (Ctrl-C)"])
        expect(try CLI.run(["query", results.path, " ; "], timeout: 30), status: 1, mentions: ["the SQL is empty"])
        expect(try CLI.run(["query", results.path, "/* only a comment */"], timeout: 30), status: 1, mentions: ["holds no statement"])
        let ok = try CLI.run(["query", results.path, "select count(*) as n from v_stages", "--timeout", "5"], timeout: 30)
        #expect(ok.status == 0 && ok.stdout.contains("n\n-\n1\n"), "\(ok)")
    }

    /// Case 11: `gc` and `run --dry-run` created a store as a side effect; a dry run against an existing store
    /// changes nothing in it.
    @Test(.enabled(if: Fixtures.hasShared, Fixtures.noShared))
    func dryRunAndGCCreateNothing() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fresh = dir.appendingPathComponent("fresh")
        let plan = try CLI.run(["run", "experiments/honesty-sweep.json", "--dry-run", "--results", fresh.path], timeout: 60)
        #expect(plan.status == 0 && plan.stdout.contains("plan for"), "\(plan)")
        #expect(!FileManager.default.fileExists(atPath: fresh.path), "the dry run created \(fresh.path)")
        expect(try CLI.run(["gc", dir.path], timeout: 30), status: 1, mentions: ["no results database at \(dir.path)/reptune.sqlite"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("reptune.sqlite").path))
        let results = try Self.vectorsStore(dir)
        let before = try StoreSnapshot(results)
        let again = try CLI.run(["run", "experiments/honesty-sweep.json", "--dry-run", "--results", results.path], timeout: 60)
        #expect(again.status == 0, "\(again)")
        #expect(try StoreSnapshot(results) == before)
    }

    /// Case 11: a missing `--steer` path showed raw `NSCocoaErrorDomain` text.
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func aMissingSteeringFileIsNamed() throws {
        let r = try CLI.run(["generate", "--prompt", "hi", "--steer", "/nonexistent/v.json", "--layer", "3"], timeout: 60)
        expect(r, status: 1, mentions: ["/nonexistent/v.json", "no such file"])
        #expect(!r.stderr.contains("NSCocoaErrorDomain"), "\(r.stderr)")
    }

    /// Case 11: a bare `.safetensors` file was read as GGUF ("not a GGUF file"), and `inspect` refused a Hugging Face
    /// directory that `generate` accepts.
    @Test func safetensorsFilesAndHuggingFaceDirectories() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = ModelConfig(architecture: "llama", vocabularySize: 32, embeddingLength: 8, blockCount: 2, feedForwardLength: 16,
                                 headCount: 2, headCountKV: 2, contextLength: 128, rmsEpsilon: 1e-5, ropeTheta: 10000,
                                 ropeLayout: .halfSplit, tiedEmbeddings: true, attentionBias: false)
        try JSONSerialization.data(withJSONObject: config.huggingFaceConfig).write(to: dir.appendingPathComponent("config.json"))
        let weights = dir.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(tensors: [("model.norm.weight", [8], [Float](repeating: 1, count: 8), .f32)], to: weights)
        for command in [["generate", weights.path, "--prompt", "hi"], ["inspect", weights.path]] {
            expect(try CLI.run(command, timeout: 30), status: 1,
                   mentions: [weights.path, "a safetensors file holds only tensors", "pass its directory \(dir.path) instead"])
        }
        let inspect = try CLI.run(["inspect", dir.path], timeout: 30)
        #expect(inspect.status == 0, "\(inspect)")
        #expect(inspect.stdout.contains("(Hugging Face directory)") && inspect.stdout.contains("architecture: llama, 2 blocks, d_model 8"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("1 F32"), "\(inspect.stdout)")
    }
}

/// What a results directory holds, compared before and after a command: every row of every table (sorted) and
/// every file under it with its size (SQLite's `-wal`/`-shm` companions aside).
struct StoreSnapshot: Equatable {
    var rows: [String]
    var files: [String]

    init(_ directory: URL) throws {
        let store = try Store(readOnlyDirectory: directory)
        rows = []
        for table in try store.db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap({ $0[0].string }) {
            rows += try store.db.query("SELECT * FROM \(table)").map { "\(table): " + $0.values.map(\.description).joined(separator: "|") }.sorted()
        }
        let fm = FileManager.default
        files = (fm.enumerator(atPath: directory.path)?.compactMap { $0 as? String } ?? [])
            .filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") && $0 != Store.databaseName }
            .sorted()
            .map { "\($0) \((try? fm.attributesOfItem(atPath: directory.appendingPathComponent($0).path)[.size] as? Int) ?? -1)" }
    }
}
