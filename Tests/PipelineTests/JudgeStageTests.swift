import Foundation
import Testing
import Experiments
import Pipeline
import TestSupport

/// The `judge` stage through the scheduler: two fake open-ended `evaluate` stages commit generations, the judge
/// pairs them by item and judges both orders (HTTP back-end against a local server; the engine back-end on
/// SmolLM2 when the model is present).
@Suite("Judge stage")
struct JudgeStageTests {
    /// Fake open-ended answers: stage `honest` tells the truth, stage `liar` does not; item 3 only in `honest`.
    /// (The two stages' parameters differ so that their cache keys differ.)
    static func registry() -> StageRegistry {
        var r = StageRegistry.standard
        r.register(.evaluate, .perCell { context, _ in
            let honest = context.stage.id == "honest"
            let items = honest ? [0, 1, 2, 3] : [2, 1, 0]
            let generations = items.map { i in
                Generation(item: i, prompt: "<|im_start|>user\nQuestion \(i)?<|im_end|>\n<|im_start|>assistant\n",
                           output: i == 1 ? "maybe" : (honest ? "I tell the truth about \(i)." : "I hide what happened in \(i)."),
                           meta: .object(["source": .string("fake")]))
            }
            return CellResult(metrics: ["n": Double(items.count)], generations: generations)
        })
        return r
    }

    static func manifest(model: String, judgeParams: String) -> String {
        """
        {"name": "judging", "model": \(model.debugDescription),
         "datasets": {"qs": "qs.txt"},
         "stages": [
           {"id": "honest", "kind": "evaluate", "params": {"task": "open_ended", "dataset": "qs"}},
           {"id": "liar", "kind": "evaluate", "params": {"task": "open_ended", "dataset": "qs", "max_new_tokens": 20}},
           {"id": "verdict", "kind": "judge", "params": \(judgeParams), "inputs": {"a": "honest", "b": "liar"}}
         ]}
        """
    }

    static func experiment(_ manifest: String) throws -> URL {
        let dir = try Fixtures.temporaryDirectory("reptune-judge")
        try Arith.writeModelHeader(to: dir.appendingPathComponent("model.gguf"))
        try Data("Question 0?\nQuestion 1?\nQuestion 2?\nQuestion 3?\n".utf8).write(to: dir.appendingPathComponent("qs.txt"))
        try Data(manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        return dir
    }

    static func run(_ dir: URL) throws -> (RunSummary, Store) {
        let results = dir.appendingPathComponent("results")
        let store = try Store(directory: results)
        let plan = try Planner.plan(try Manifest.load(from: dir.appendingPathComponent("manifest.json")),
                                    options: PlanOptions(engineVersion: 1), store: store)
        let summary = try Scheduler(registry: registry()).run(plan, in: results)
        return (summary, store)
    }

    @Test func httpJudgeThroughTheScheduler() throws {
        setenv("REPTUNE_JUDGE_STAGE_TEST_KEY", "sk-stage-test", 1)
        let server = try LocalHTTPServer { request in
            let content = String(decoding: request.body, as: UTF8.self)
            guard let one = content.range(of: "Continuation 1:"), let two = content.range(of: "Continuation 2:") else {
                return .init(status: 400, body: "{}")
            }
            if content[one.upperBound..<two.lowerBound].contains("truth") { return .chatCompletion("1") }
            if content[two.upperBound...].contains("truth") { return .chatCompletion("2") }
            return .chatCompletion("no idea")
        }
        defer { server.stop() }
        let dir = try Self.experiment(Self.manifest(model: "model.gguf", judgeParams: """
            {"backend": "openai", "url": "\(server.baseURL)/v1", "model": "grader", "key_env": "REPTUNE_JUDGE_STAGE_TEST_KEY"}
            """))
        defer { try? FileManager.default.removeItem(at: dir) }
        let (summary, store) = try Self.run(dir)
        #expect(!summary.failed, "\(summary)")
        #expect(summary.outcome("verdict") == .computed(cells: 1))

        // Items 0, 1, 2 are in both sets (3 only in `honest`): 6 requests, each with the key.
        #expect(server.requests.count == 6)
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == "Bearer sk-stage-test" })
        // The judge sees the user's question, not the chat markup.
        #expect(server.requests.allSatisfy { $0.bodyText.contains("Prompt: \\\"Question ") && !$0.bodyText.contains("im_start") })

        let cell = try #require(try StageResults.load(store, stageID: "verdict").cells.first)
        #expect(cell.metrics["n"] == 3)
        #expect(cell.metrics["a_wins"] == 2)
        #expect(cell.metrics["b_wins"] == 0)
        #expect(cell.metrics["ties"] == 1)
        // Scores +1, 0, +1: W+ = 3 over tied ranks 1.5, 1.5; normal approximation z = 1.5/√1.125 → p = 0.1573 (SciPy).
        #expect(abs((cell.metrics["wilcoxon_p"] ?? .nan) - 0.15729920705028513) < 1e-9)
        #expect(cell.outputs["judge"]?.stringValue == "openai:grader")
        #expect(cell.outputs["a"]?.stringValue == "honest" && cell.outputs["b"]?.stringValue == "liar")
        let items = try #require(cell.outputs["items"]?.arrayValue)
        #expect(items.map { $0["item"]?.intValue } == [0, 1, 2])
        #expect(items.map { $0["ab"]?.intValue } == [1, 0, 1])
        #expect(items.map { $0["ba"]?.intValue } == [2, 0, 2])
        #expect(items.map { $0["score"]?.intValue } == [1, 0, 1])
        // Orders agree on every item (A, none, A both ways): κ = 1.
        #expect(cell.metrics["order_kappa"] == 1)
        // The key is not stored anywhere in the database.
        let stored = try store.db.query("SELECT outputs_json FROM cells").map { $0[0].string ?? "" }.joined()
        #expect(!stored.contains("sk-stage-test"))
    }

    @Test func judgeFailsClearlyWhenAnInputHasNoGenerations() throws {
        let dir = try Self.experiment(Self.manifest(model: "model.gguf", judgeParams: """
            {"backend": "openai", "url": "http://127.0.0.1:9/v1", "model": "grader"}
            """))
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = dir.appendingPathComponent("results")
        let store = try Store(directory: results)
        let plan = try Planner.plan(try Manifest.load(from: dir.appendingPathComponent("manifest.json")), options: PlanOptions(engineVersion: 1), store: store)
        var r = Self.registry()
        r.register(.evaluate, .perCell { _, _ in CellResult(metrics: ["n": 0]) })
        let summary = try Scheduler(registry: r).run(plan, in: results)
        #expect(summary.failed)
        let error = try store.db.query("SELECT error FROM cells WHERE error IS NOT NULL").first?[0].string ?? ""
        #expect(error.contains("stage verdict: input `a` (stage honest) stored no generations"), "\(error)")
    }

    /// A local judge model other than the manifest's is part of the judge's cache key by content: replacing the file
    /// re-plans the judge (only); the manifest's own model named as the judge adds nothing.
    @Test func aLocalJudgeModelFileIsInTheJudgeKeyByContent() throws {
        let judgeDir = try Fixtures.temporaryDirectory("reptune-judge-model")
        defer { try? FileManager.default.removeItem(at: judgeDir) }
        let judgeFile = judgeDir.appendingPathComponent("judge.gguf")
        try Data("judge weights, version 1".utf8).write(to: judgeFile)
        func keys(_ judgeParams: String) throws -> [String: String] {
            let dir = try Self.experiment(Self.manifest(model: "model.gguf", judgeParams: judgeParams))
            defer { try? FileManager.default.removeItem(at: dir) }
            let store = try Store(directory: dir.appendingPathComponent("results"))
            let plan = try Planner.plan(try Manifest.load(from: dir.appendingPathComponent("manifest.json")),
                                        options: PlanOptions(engineVersion: 1), store: store)
            return Dictionary(uniqueKeysWithValues: plan.stages.map { ($0.id, $0.key.hex) })
        }
        let withJudge = "{\"backend\": \"local\", \"model\": \(judgeFile.path.debugDescription)}"
        let first = try keys(withJudge)
        try Data("judge weights, version 2 (retrained)".utf8).write(to: judgeFile)
        let second = try keys(withJudge)
        #expect(first["verdict"] != second["verdict"])
        #expect(first["honest"] == second["honest"] && first["liar"] == second["liar"])
        // The manifest's own model named as the judge adds no file to the key material.
        #expect(!(try plannedMaterial("{\"backend\": \"local\", \"model\": \"model.gguf\"}").contains("judge_model")))
        #expect(try plannedMaterial(withJudge).contains("\"judge_model\""))
    }

    func plannedMaterial(_ judgeParams: String) throws -> String {
        let dir = try Self.experiment(Self.manifest(model: "model.gguf", judgeParams: judgeParams))
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: dir.appendingPathComponent("results"))
        let plan = try Planner.plan(try Manifest.load(from: dir.appendingPathComponent("manifest.json")),
                                    options: PlanOptions(engineVersion: 1), store: store)
        return plan.stage("verdict")!.key.material
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func localJudgeOnTheManifestModel() throws {
        let dir = try Self.experiment(Self.manifest(model: Fixtures.defaultModel.path, judgeParams: "{\"backend\": \"local\"}"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let (summary, store) = try Self.run(dir)
        #expect(!summary.failed, "\(summary)")
        let cell = try #require(try StageResults.load(store, stageID: "verdict").cells.first)
        #expect(cell.outputs["judge"]?.stringValue == "local:SmolLM2-135M-Instruct.Q4_1.gguf")
        let items = try #require(cell.outputs["items"]?.arrayValue)
        #expect(items.count == 3)
        let a = cell.metrics["a_wins"] ?? -1, b = cell.metrics["b_wins"] ?? -1, t = cell.metrics["ties"] ?? -1
        #expect(a + b + t == 3)
        #expect(Double(items.filter { $0["score"]?.intValue == 1 }.count) == a)
        #expect(items.allSatisfy { [1, 2].contains($0["ab"]?.intValue ?? 0) && [1, 2].contains($0["ba"]?.intValue ?? 0) })
    }
}
