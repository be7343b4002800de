import Foundation
import Testing
import TestSupport

/// `reptune run --dry-run`: the committed manifests are valid and planned; a broken one gets every error.
@Suite(.enabled(if: CLI.executable != nil && Fixtures.hasShared, CLI.missing))
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
        #expect(plan.stdout.contains("sweep") && plan.stdout.contains("30 cells"))
        // Without --dry-run the command says plainly that executing stages is not there yet.
        let run = try CLI.run(["run", "experiments/honesty-sweep.json", "--results", results.path])
        #expect(run.status == 2 && run.stderr.contains("not available yet"))
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

/// The store commands on a results directory made by a dry run (no runs yet).
@Suite(.enabled(if: CLI.executable != nil && Fixtures.hasShared, CLI.missing))
struct CLIStoreCommandTests {
    @Test func queryReadsTheViewsAndRefusesWrites() throws {
        let results = try Fixtures.temporaryDirectory("runs")
        _ = try CLI.run(["run", "experiments/honesty-sweep.json", "--dry-run", "--results", results.path])
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
