import Foundation
import Pipeline
import Testing
import TestSupport

/// `reptune run --dry-run`: the committed manifests are valid and planned; a broken one gets every error.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct CLIRunPlanTests {
    @Test func committedManifestsPlan() throws {
        let dir = Fixtures.repoRoot.appendingPathComponent("experiments")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") && $0 != "chat-example.json" }
        #expect(!manifests.isEmpty)
        for m in manifests {
            let results = try Fixtures.temporaryDirectory("runs")
            let r = try CLI.run(["run", "experiments/\(m)", "--dry-run", "--results", results.path])
            #expect(r.status == 0, "\(m): \(r.stderr)")
            #expect(r.stdout.contains("plan for"), "\(m)")
        }
        let results = try Fixtures.temporaryDirectory("runs")
        let plan = try CLI.run(["run", "experiments/honesty-sweep.json", "--dry-run", "--results", results.path])
        #expect(plan.stdout.contains("sweep") && plan.stdout.contains("42 cells"))
    }

    /// The dry-run's resource estimate: the quickstart's stages on SmolLM2 (file here, fp32 by auto) and the paper's
    /// 13B manifest (file not here: shape from its name, native Q8_0): every stage's memory, the largest stage's
    /// plan, the time at this machine's measured rates.
    @Test func dryRunEstimatesMemoryAndTime() throws {
        let results = try Fixtures.temporaryDirectory("runs")
        let quick = try CLI.run(["run", "experiments/quickstart.json", "--dry-run", "--results", results.path])
        #expect(quick.status == 0, "\(quick.stderr)")
        #expect(quick.stdout.contains("resources on this machine (weights fp32; SmolLM2-135M-Instruct.Q4_1.gguf)"), "\(quick.stdout)")
        #expect(quick.stdout.contains("largest: honesty_tune needs"))
        #expect(quick.stdout.contains("trainable weights") && quick.stdout.contains("6 blocks × 3540096 weights"))
        // The paper's 13B model (Q4_K_M) on a machine of 22 GiB (less than a 24 GB one has): every stage fits, the
        // tune stages with their gradients and AdamW moments on disk.
        let paper = try CLI.run(["run", "experiments/paper-honesty-llama2-13b.json", "--dry-run", "--results", results.path],
                                environment: ["REPTUNE_MEMORY_LIMIT": "\(22 << 30)"])
        #expect(paper.status == 0, "\(paper.stderr)")
        #expect(paper.stdout.contains("weights native; llama-2-13b-chat.Q4_K_M.gguf, not here: shape and size guessed from its name"))
        #expect(paper.stdout.contains("largest: honesty_tune needs") && paper.stdout.contains("fits in this machine's 22.0 GiB"), "\(paper.stdout)")
        #expect(paper.stdout.contains("7 blocks trained; gradients and moments on disk"))
        // Collecting activations on 13B Q4_K_M with native weights: 7 GiB of weights, well under 24 GB.
        let acts = try #require(paper.stdout.split(separator: "\n").first { $0.hasPrefix("  acts ") && $0.contains("GiB") })
        let gib = try #require(acts.split(separator: " ").compactMap { Double($0) }.first)
        #expect(gib > 7 && gib < 14, "\(acts)")
        #expect(paper.stdout.contains("7 blocks × 317204480 weights"), "the tune stages' trainable blocks are counted")
    }

    /// The steering-experiment kinds are estimated too, from counts that the manifests' descriptions state: CAA's
    /// 7 behaviours × 150 generate items, 30 layers × 2 multipliers × 25 validation items, 95 MMLU and 103
    /// TruthfulQA side-effect items × 21 cells; ActAdd's 58 prompts × 10 samples × 40 tokens, 19 cells after
    /// <|endoftext|> against 5 for the first-token control (the time scales with the cells).
    @Test func dryRunEstimatesTheSteeringExperimentKinds() throws {
        func lines(_ manifest: String) throws -> [String: String] {
            let results = try Fixtures.temporaryDirectory("runs")
            let r = try CLI.run(["run", "experiments/\(manifest)", "--dry-run", "--results", results.path])
            #expect(r.status == 0, "\(r.stderr)")
            var out: [String: String] = [:]
            for line in r.stdout.split(separator: "\n") where line.contains(" ≈ ") {
                if let id = line.split(separator: " ").first { out[String(id)] = String(line) }
            }
            return out
        }
        func seconds(_ line: String?) -> Double? {
            guard let line, let r = line.range(of: " ≈ ") else { return nil }
            let words = line[r.upperBound...].split(separator: " ")
            guard words.count >= 2, let x = Double(words[0]) else { return nil }
            return x * (["s": 1, "min": 60, "h": 3600, "days": 86400][String(words[1])] ?? .nan)
        }
        let caa = try lines("caa-behaviors.json")
        for (id, work) in [("caa_vectors", "1050 items × 2 answers"), ("layers_val", "10500 A/B prompts over 420 cells"),
                           ("mmlu_side", "1995 A/B prompts"), ("tqa_side", "2163 A/B prompts"), ("open_ended", "210 answers × 48 tokens")] {
            #expect(caa[id]?.contains(work) == true && seconds(caa[id]) != nil, "\(id): \(caa[id] ?? "missing")")
        }
        let actadd = try lines("actadd-topics.json")
        #expect(actadd["after_eot"]?.contains("58 prompts × 10 samples × 40 tokens per cell") == true, "\(actadd)")
        let ratio = try #require(seconds(actadd["after_eot"])) / #require(seconds(actadd["first_token"]))
        #expect(abs(ratio / (19.0 / 3.0) - 1) < 0.1, "\(actadd)")
    }

    /// `--dry-run --json` says per stage why it is computed again and what it needs: the committed CAA study's store
    /// (copied) planned with one grid edited — the edited stage and the report downstream say why, the cached stages
    /// have no reasons and no estimate, the edited stage's estimate counts its work.
    @Test func dryRunJSONGivesReasonsAndEstimates() throws {
        let dir = try Fixtures.temporaryDirectory("dry-json")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("store")
        try FileManager.default.copyItem(at: Fixtures.repoRoot.appendingPathComponent("results/caa-smollm2-135m/store"), to: store)
        let original = try String(contentsOf: Fixtures.repoRoot.appendingPathComponent("experiments/caa-behaviors.json"), encoding: .utf8)
        let edited = original.replacingOccurrences(of: #""multipliers": [-16, -8, -4, -1, 0, 1, 4, 8, 16]"#, with: #""multipliers": [-8, 0, 8]"#)
        #expect(edited != original)
        let manifest = dir.appendingPathComponent("caa.json")
        try Data(edited.utf8).write(to: manifest)
        let r = try CLI.run(["run", manifest.path, "--dry-run", "--json", "--results", store.path])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.stdout)")
        func row(_ id: String) throws -> [String: Any] { try #require(rows.first { $0["id"] as? String == id }, "\(id)") }
        let vectors = try row("caa_vectors"), sweep = try row("multipliers_test"), report = try row("report")
        #expect(vectors["action"] as? String == "cached" && (vectors["reasons"] as? [String]) == [] && vectors["estimate"] == nil)
        #expect(sweep["action"] as? String == "run")
        #expect(sweep["reasons"] as? [String] == ["params changed: multipliers [-16,-8,-4,-1,0,1,4,8,16] → [-8,0,8]"], "\(sweep)")
        let estimate = try #require(sweep["estimate"] as? [String: Any])
        #expect((estimate["work"] as? String)?.hasPrefix("525 A/B prompts over 21 cells") == true, "\(estimate)")
        #expect(((estimate["seconds"] as? Double) ?? 0) > 0 && ((estimate["memory_bytes"] as? Int) ?? 0) > 1 << 20, "\(estimate)")
        #expect((report["reasons"] as? [String])?.contains { $0.hasPrefix("input changed: from") } == true, "\(report)")
    }

    /// The manifests that run part of the study on its cached results plan the shared stages with the study's keys
    /// (a copied stage that drifted would silently recompute hours of work).
    @Test func partialManifestsShareTheStudysKeys() throws {
        func keys(_ manifest: String) throws -> [String: String] {
            let results = try Fixtures.temporaryDirectory("runs")
            let r = try CLI.run(["run", "experiments/\(manifest)", "--dry-run", "--results", results.path])
            var out: [String: String] = [:]
            for line in r.stdout.split(separator: "\n") {
                let words = line.split(separator: " ")
                if let k = words.firstIndex(of: "key"), k + 1 < words.count, let id = words.first { out[String(id)] = String(words[k + 1]) }
            }
            return out
        }
        let study = try keys("paper-honesty.json")
        #expect(study.count > 40)
        for (manifest, shared) in [("honesty-sweep.json", ["acts", "honesty_vec"]),
                                   ("tuning-perplexity-slice.json", ["acts", "honesty_vec", "honesty_tune", "dishonesty_tune"])] {
            let partial = try keys(manifest)
            for id in shared { #expect(partial[id] != nil && partial[id] == study[id], "\(manifest): \(id)") }
        }
    }

    @Test func everyErrorAtOnceWithPathsLinesAndSuggestions() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("bad.json")
        try Data(#"{"name": "x", "stages": [{"id": "a", "kind": "steering_sweap", "params": {}}, {"id": "b", "kind": "vectors", "params": {"methd": "pca"}, "inputs": {"activations": "zz"}}]}"#.utf8).write(to: url)
        let r = try CLI.run(["run", url.path, "--dry-run"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("3 errors"), "\(r.stderr)")
        #expect(r.stderr.contains("stages[0].kind (line 1, column 46)") && r.stderr.contains(#"did you mean "steering_sweep"?"#))
        #expect(r.stderr.contains("stages[1].params.methd") && r.stderr.contains(#"did you mean "method"?"#))
        #expect(r.stderr.contains(#"stages[1].inputs.activations"#))
    }
}

/// `reptune run` for real on SmolLM2: a small sweep interrupted with Ctrl-C (SIGINT) stops after the cells in
/// flight and says how to resume; `reptune resume` finishes it, and the stored answers equal an uninterrupted run's.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing), .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct CLIRunTests {
    static func manifest(_ dir: URL) throws -> URL {
        let d = Fixtures.datasets.path
        let url = dir.appendingPathComponent("sweep.json")
        try Data("""
        {"name": "ctrl-c", "model": {"name": "smollm2-135m-instruct"},
         "datasets": {"facts": {"path": "\(d)/facts_true_false/facts_true_false.csv", "splits": {"few": {"rows": [0, 12]}}},
                      "gpt4": {"path": "\(d)/gpt4_facts/gpt4_facts.csv", "splits": {"few": {"rows": [0, 6]}}}},
         "stages": [
           {"id": "acts", "kind": "collect_activations", "params": {"dataset": "facts:few", "layers": [4, 8, 12]}},
           {"id": "vec", "kind": "vectors", "inputs": {"activations": "acts"}},
           {"id": "sweep", "kind": "steering_sweep", "inputs": {"vector": "vec"},
            "params": {"dataset": "gpt4:few", "layers": [4, 8, 12], "multipliers": [-5, 5], "max_new_tokens": 6}}
         ]}
        """.utf8).write(to: url)
        return url
    }

    static func answers(_ results: URL) throws -> String {
        let r = try CLI.run(["query", results.path, "select stage_id, cell_index, item, output, score from v_generations order by stage_id, cell_index, item", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    @Test func ctrlCThenResumeGivesTheUninterruptedResults() throws {
        let dir = try Fixtures.temporaryDirectory("ctrl-c")
        let manifest = try Self.manifest(dir)
        let reference = dir.appendingPathComponent("reference"), results = dir.appendingPathComponent("results")
        let whole = try CLI.run(["run", manifest.path, "--results", reference.path])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stdout.contains("sweep: done (6 cells computed)"), "\(whole.stdout)")

        let child = Process()
        child.executableURL = CLI.executable
        child.arguments = ["run", manifest.path, "--results", results.path]
        let err = Pipe()
        child.standardOutput = FileHandle.nullDevice
        child.standardError = err
        try child.run()
        let deadline = Date().addingTimeInterval(300)
        var sent = false
        while Date() < deadline, child.isRunning {
            let q = try? CLI.run(["query", results.path, "select count(*) from v_cells where stage_id = 'sweep' and status = 'done'", "--format", "csv"])
            if let q, q.status == 0, let n = Int(q.stdout.split(separator: "\n").last ?? ""), n >= 1 {
                kill(child.processIdentifier, SIGINT)
                sent = true
                break
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        child.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(sent, "the run finished before it could be interrupted")
        #expect(child.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("reptune resume \(results.path)"), "\(stderr)")
        let status = try CLI.run(["status", results.path])
        #expect(status.stdout.contains("sweep"), "\(status.stdout)")

        // --dry-run names the interrupted run and plans the rest without running it.
        let planned = try CLI.run(["resume", results.path, "--dry-run"])
        #expect(planned.status == 0, "\(planned.stderr)")
        #expect(planned.stdout.contains("resuming run 1 of") && planned.stdout.contains("(interrupted)"), "\(planned.stdout)")
        #expect(planned.stdout.contains("resume ") && planned.stdout.contains("cells to run"), "\(planned.stdout)")
        let runs = try CLI.run(["query", results.path, "select count(*) from v_runs", "--format", "csv"]).stdout
        #expect(runs.split(separator: "\n").last == "1", "a dry run records no run: \(runs)")
        let resumed = try CLI.run(["resume", results.path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("acts: cached") && resumed.stdout.contains("vec: cached"), "\(resumed.stdout)")
        #expect(try Self.answers(results) == Self.answers(reference))
        // Nothing is left to do.
        let again = try CLI.run(["run", manifest.path, "--results", results.path])
        #expect(again.stdout.contains("sweep: cached"), "\(again.stdout)")
    }
}

/// The store commands on a results directory with an empty store (no runs yet).
@Suite(.enabled(if: CLI.executable != nil, CLI.missing))
struct CLIStoreCommandTests {
    @Test func queryReadsTheViewsAndRefusesWrites() throws {
        let results = try Fixtures.temporaryDirectory("runs")
        _ = try Store(directory: results)
        let views = try CLI.run(["query", results.path, "select name from sqlite_master where type = 'view' order by name", "--format", "csv"])
        #expect(views.status == 0, "\(views.stderr)")
        #expect(views.stdout.contains("v_cells") && views.stdout.contains("v_runs") && views.stdout.contains("v_stages"))
        let write = try CLI.run(["query", results.path, "delete from runs"])
        #expect(write.status != 0 && write.stderr.contains("only reads"))
        let status = try CLI.run(["status", results.path])
        #expect(status.status != 0 && status.stderr.contains("no runs recorded"))
        let missing = try CLI.run(["status", "/nonexistent/results"])
        #expect(missing.status != 0 && missing.stderr.contains("no such results directory"))
    }
}

/// `experiments/rescore-paper.json` scores the paper's stored generations and its report carries METHOD.md §6's
/// numbers, number for number; `reptune report` renders the same store to identical bytes every time.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing), .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct CLIRescoreTests {
    @Test func rescoreReportReproducesThePaperAndIsDeterministic() throws {
        let results = try Fixtures.temporaryDirectory("rescore")
        let r = try CLI.run(["run", "experiments/rescore-paper.json", "--results", results.path])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try String(contentsOf: results.appendingPathComponent("report/report.md"), encoding: .utf8)
        // condition → (honest %, dishonest %) as METHOD.md §6 states them (the other column follows: 0 unparseable).
        let expected: [(row: String, honest: String, dishonest: String)] = [
            ("facts_base", "81.0", "19.0"), ("facts_honesty_steered", "83.0", "17.0"), ("facts_dishonesty_steered", "51.0", "49.0"),
            ("facts_truth_tuned", "87.5", "12.5"), ("facts_honesty_tuned", "87.0", "13.0"), ("facts_lie_tuned", "16.0", "84.0"),
            ("tqa_truth_tuned", "56.5", "41.5"), ("tqa_lie_tuned", "44.0", "56.0"), ("tqa_dishonesty_tuned", "32.5", "67.5"),
        ]
        for e in expected {
            let line = report.split(separator: "\n").first { $0.hasPrefix("| \(e.row) |") }
            let cells = try #require(line, "no row \(e.row)").split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(cells[2] == "200" && cells[3] == e.honest && cells[5] == e.dishonest, "\(e.row): \(cells)")
        }
        let a = results.appendingPathComponent("again-a"), b = results.appendingPathComponent("again-b")
        for out in [a, b] {
            let rr = try CLI.run(["report", results.path, "--format", "md,csv,tex,html,svg", "--out", out.path])
            #expect(rr.status == 0, "\(rr.stderr)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: a.path).sorted()
        #expect(files.contains("index.html") && files.contains("facts-honest.svg") && files.contains("report.tex"))
        #expect(files == (try FileManager.default.contentsOfDirectory(atPath: b.path).sorted()))
        for f in files {
            #expect(try Data(contentsOf: a.appendingPathComponent(f)) == Data(contentsOf: b.appendingPathComponent(f)), "\(f) differs")
        }
    }
}

/// A manifest pointing at a changed copy of a known dataset is refused before anything runs, naming the dataset,
/// the file and both digests.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing), .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct CLIDatasetVerificationTests {
    @Test func changedDatasetCopyIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory("changed-dataset")
        let copy = dir.appendingPathComponent("gpt4_facts/gpt4_facts.csv")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        var text = try String(contentsOf: Fixtures.datasets.appendingPathComponent("gpt4_facts/gpt4_facts.csv"), encoding: .utf8)
        text = text.replacingOccurrences(of: ",1\n", with: ",0\n")
        try Data(text.utf8).write(to: copy)
        let manifest = dir.appendingPathComponent("m.json")
        try Data("""
        {"name": "changed", "model": {"name": "smollm2-135m-instruct"}, "datasets": {"gpt4": "gpt4_facts/gpt4_facts.csv"},
         "stages": [{"id": "base", "kind": "evaluate", "params": {"task": "facts", "dataset": "gpt4"}}]}
        """.utf8).write(to: manifest)
        let r = try CLI.run(["run", manifest.path, "--dry-run", "--results", dir.appendingPathComponent("results").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("dataset gpt4: \(copy.path) has sha256"), "\(r.stderr)")
        #expect(r.stderr.contains("datasets/gpt4_facts.json expects 3542ca445047afd8b1306d864ee54b5f84fc550db45a0f3181153d6439636744"), "\(r.stderr)")
    }
}
