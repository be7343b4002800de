import Foundation
import ModelFormats
import Pipeline
import Testing
import TestSupport

/// The command line under random input (issue 22): mutations of a valid manifest run with `--dry-run`, and
/// mutations of valid argument lists of every cheap command, from fixed seeds. Every invocation must end by
/// itself within its time bound with exit status 0, 1 or 2 — never a signal (a crash) — and a failure must say
/// where the problem is (a JSON path, an option, or the path it could not use) and leave the results directory's
/// store exactly as it was.
@Suite(.serialized, .enabled(if: CLI.executable != nil && Fixtures.hasModel && Fixtures.hasShared,
                             "SKIPPED: needs the built reptune, models/ (make setup) and ../shared"))
struct CLIFuzzTests {
    static let perInvocation: TimeInterval = 30

    /// The experiment every mutation starts from: all stage kinds but judge, on small splits of the shared data.
    static func manifest() -> String {
        let d = Fixtures.datasets.path
        return """
        {"name": "fuzz", "model": {"name": "smollm2-135m-instruct"},
         "datasets": {"facts": {"path": "\(d)/facts_true_false/facts_true_false.csv",
                                "splits": {"vectors": {"rows": [0, 16]}, "train": {"rows": [16, 32]}, "val": {"indices": [32, 33, 34, 35]}}},
                      "gpt4": {"path": "\(d)/gpt4_facts/gpt4_facts.csv", "splits": {"quick": {"rows": [0, 8]}}},
                      "wiki": {"path": "\(d)/wikitext-2-raw/wiki.test.raw", "format": "raw"}},
         "defaults": {"max_new_tokens": 4},
         "stages": [
           {"id": "acts", "kind": "collect_activations", "params": {"dataset": "facts:vectors", "layers": [4, 8], "positions": [-2, "last"]}},
           {"id": "vec", "kind": "vectors", "params": {"method": "pca", "component": 1, "position": -2}, "inputs": {"activations": "acts"}},
           {"id": "sweep", "kind": "steering_sweep", "inputs": {"vector": "vec"},
            "params": {"dataset": "gpt4:quick", "layers": [4, 8], "multipliers": {"range": [-4, 4, 4]}, "include_zero_out": true}},
           {"id": "tune", "kind": "tune", "inputs": {"vector": "vec"},
            "params": {"objective": "honesty", "dataset": "facts:train", "validation": "facts:val", "layers": [7, 8],
                       "loss_layers": [8], "probe_position": -2, "epochs": 1, "lr_vo": [1e-5, 2e-5]}},
           {"id": "tuned", "kind": "evaluate", "inputs": {"tuned": "tune"}, "params": {"task": "facts", "dataset": "gpt4:quick", "variant": "tuned", "tuned_cell": 1}},
           {"id": "steered", "kind": "evaluate", "inputs": {"vector": "vec"},
            "params": {"task": "facts", "dataset": "gpt4:quick", "variant": "steered", "layer": 8, "multiplier": 6}},
           {"id": "ppl", "kind": "perplexity", "params": {"dataset": "wiki", "window": 64, "stride": 32, "max_tokens": 256}},
           {"id": "report", "kind": "report", "inputs": {"from": ["vec", "sweep", "tuned", "ppl"]}, "params": {"formats": ["md", "csv"]}}
         ]}
        """
    }

    /// A working directory: the manifest, a results directory whose store holds a finished stage (and the model's
    /// cached digest, so dry runs do not hash it), and a FIFO (reading one would block for ever).
    struct Bench {
        let dir: URL, manifest: URL, results: URL, fifo: URL

        init() throws {
            dir = try Fixtures.temporaryDirectory("cli-fuzz")
            manifest = dir.appendingPathComponent("fuzz.json")
            try Data(CLIFuzzTests.manifest().utf8).write(to: manifest)
            results = try CLIHardeningTests.vectorsStore(dir)
            _ = try Store(directory: results).digest(of: Fixtures.defaultModel)
            fifo = dir.appendingPathComponent("fifo")
            #expect(mkfifo(fifo.path, 0o600) == 0)
        }
    }

    /// Runs one invocation and checks the contract; returns its outcome.
    @discardableResult
    static func check(_ args: [String], bench: Bench, label: String) throws -> CLI.Outcome {
        let before = try StoreSnapshot(bench.results)
        let r = try CLI.run(args, timeout: perInvocation, directory: bench.dir)   // relative paths land in the bench
        #expect(!r.timedOut, "\(label): still running after \(perInvocation) s: \(args)")
        #expect(!r.signalled && [0, 1, 2].contains(r.status), "\(label): \(r) for \(args)")
        if r.status != 0 && !r.timedOut {
            #expect(namesWhere(r.stderr, args: args), "\(label): the error names no JSON path, option or file: \(r.stderr) for \(args)")
            #expect(try StoreSnapshot(bench.results) == before, "\(label): a failed command changed the store: \(args)")
        }
        return r
    }

    /// Whether an error message says where the problem is: a manifest error line (JSON path, then line and
    /// column or a colon), an option (`--name`), the usage of the command (for a missing argument), or the file it
    /// could not use (an absolute path).
    static func namesWhere(_ stderr: String, args: [String]) -> Bool {
        if stderr.range(of: #"\n  (\$|[A-Za-z_][^ \n]*)( \(line \d+, column \d+\))?: expected "#, options: .regularExpression) != nil { return true }
        if stderr.range(of: #"--[a-z][a-z-]*"#, options: .regularExpression) != nil { return true }
        if stderr.contains("unknown command") || stderr.contains("\nusage: reptune ") { return true }
        return stderr.range(of: #"(^|[ "(])/[^ \n]+"#, options: .regularExpression) != nil
    }

    @Test func mutatedManifestsDryRun() throws {
        let bench = try Bench()
        defer { try? FileManager.default.removeItem(at: bench.dir) }
        let valid = try Self.check(["run", bench.manifest.path, "--dry-run", "--results", bench.results.path], bench: bench, label: "valid")
        #expect(valid.status == 0 && valid.stdout.contains("plan for fuzz (8 stages)"), "\(valid)")
        let base = try JSONParser.parse(Self.manifest())
        var rng = SplitMix(state: 2222)
        var outcomes: [Int32: Int] = [:]
        let mutant = bench.dir.appendingPathComponent("mutant.json")
        for i in 0..<300 {
            let bytes: [UInt8]
            if Int.random(in: 0..<5, using: &rng) < 3 {
                var v = base
                for _ in 0..<Int.random(in: 1...3, using: &rng) { v = ManifestMutations.mutate(v, &rng) }
                bytes = Array(CanonicalJSON.encode(v).utf8)
            } else {
                var text = Self.manifest()
                var b: [UInt8] = []
                for _ in 0..<Int.random(in: 1...2, using: &rng) {
                    b = ManifestMutations.mutateText(text, &rng)
                    text = String(decoding: b, as: UTF8.self)
                }
                bytes = b
            }
            try Data(bytes).write(to: mutant)
            let r = try Self.check(["run", mutant.path, "--dry-run", "--results", bench.results.path], bench: bench, label: "manifest \(i)")
            outcomes[r.status, default: 0] += 1
        }
        // The mutations reach both outcomes.
        #expect((outcomes[0] ?? 0) > 5 && (outcomes[1] ?? 0) > 60, "\(outcomes)")
    }

    @Test func mutatedArgumentLists() throws {
        let bench = try Bench()
        defer { try? FileManager.default.removeItem(at: bench.dir) }
        let (m, r, d) = (bench.manifest.path, bench.results.path, bench.dir.path)
        let out = bench.dir.appendingPathComponent("out").path
        let lists: [[String]] = [
            ["run", m, "--dry-run", "--results", r],
            ["run", m, "--dry-run", "--results", r, "--only", "sweep", "--force", "vec", "--jobs", "2", "--json"],
            ["resume", r, "--dry-run", "--run", "1"],
            ["status", r],
            ["query", r, "select run_id, status from v_runs", "--format", "csv", "--timeout", "5"],
            ["results", r, "--stage", "vecs", "--format", "json"],
            ["report", r, "--format", "md,csv", "--out", out, "--run", "1"],
            ["export", r, "--stage", "vecs", "--out", "\(out).gguf", "--layers", "1,2", "--cell", "0"],
            ["pack", r, "--out", "\(out)-pack", "--max-artifact-mib", "1"],
            ["gc", r, "--keep-all-runs"],
            ["inspect", "--json"],
            ["tokenize", "hello world", "--no-special"],
            ["blas", "--core-type"],
            ["help", "run"],
        ]
        let garbage = ["", "-1", "0", "1", "9223372036854775807", "99999999999999999999", "1e308", "nan", "-", "--", "--json",
                       "--bogus", "--resul", "3.5", "x,y", ",", "é😀", "select", bench.fifo.path, "/dev/zero", "\(d)/missing/x",
                       r, m, d, "--results", "--out", "--stage", "--layers", "0,0", "--timeout"]
        var rng = SplitMix(state: 1717)
        var statuses: [Int32: Int] = [:]
        for i in 0..<250 {
            var args = lists[i % lists.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                // Never the command itself, and never `--dry-run`: a mutation must not start real work.
                let mutable = args.indices.filter { $0 > 0 && args[$0] != "--dry-run" }
                let token = garbage.randomElement(using: &rng)!
                switch Int.random(in: 0..<5, using: &rng) {
                case 0 where !mutable.isEmpty: args[mutable.randomElement(using: &rng)!] = token
                case 1 where !mutable.isEmpty: args.remove(at: mutable.randomElement(using: &rng)!)
                case 2 where !mutable.isEmpty: let j = mutable.randomElement(using: &rng)!; args.insert(args[j], at: j)
                case 3 where mutable.count > 1:
                    args.swapAt(mutable.randomElement(using: &rng)!, mutable.randomElement(using: &rng)!)
                default: args.insert(token, at: Int.random(in: 1...args.count, using: &rng))
                }
            }
            let outcome = try Self.check(args, bench: bench, label: "arguments \(i)")
            statuses[outcome.status, default: 0] += 1
        }
        #expect(statuses.count >= 3, "exit statuses 0, 1 and 2 all occur: \(statuses)")
        // The FIFO and the device were never opened for writing or replaced.
        #expect(InputFile.kind(of: bench.fifo) == .other("a FIFO"))
        #expect(InputFile.kind(of: URL(fileURLWithPath: "/dev/zero")) == .other("a character device"))
    }
}
