import Foundation
import Testing
import TestSupport

/// `reptune validate`: the committed example manifests are valid; a broken one gets every error with its path.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing))
struct CLIValidateTests {
    @Test func committedManifestsAreValid() throws {
        let dir = Fixtures.repoRoot.appendingPathComponent("experiments")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") && $0 != "chat-example.json" }
        #expect(!manifests.isEmpty)
        for m in manifests {
            let r = try CLI.run(["validate", "experiments/\(m)"])
            #expect(r.status == 0, "\(m): \(r.stderr)")
            #expect(r.stdout.contains("valid manifest"))
        }
    }

    @Test func everyErrorAtOnceWithPathsAndSuggestions() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("bad.json")
        try Data(#"{"name": "x", "stages": [{"id": "a", "kind": "steering_sweap", "params": {}}, {"id": "b", "kind": "vectors", "params": {"methd": "pca"}, "inputs": {"activations": "zz"}}]}"#.utf8).write(to: url)
        let r = try CLI.run(["validate", url.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("4 errors"))
        #expect(r.stderr.contains(#"stages[0].kind: expected one of"#) && r.stderr.contains(#"(did you mean "steering_sweep"?)"#))
        #expect(r.stderr.contains(#"stages[1].params.methd"#) && r.stderr.contains(#"(did you mean "method"?)"#))
        #expect(r.stderr.contains(#"stages[1].inputs.activations: expected the id of a stage in this manifest, found "zz""#))
        try Data("{\"name\": \n  \"x\",, }".utf8).write(to: url)
        let syntax = try CLI.run(["validate", url.path])
        #expect(syntax.status == 1 && syntax.stderr.contains("bad.json:2:"), "\(syntax.stderr)")
    }
}
