import Engine
import Experiments
import Foundation
import ModelFormats
import Pipeline
import Testing
import TestSupport

/// The real stage runners on SmolLM2: one small manifest run end to end through the scheduler, then each stage's
/// stored results checked against an independent computation (a direct engine call, plain loops, the paper's
/// numbers), and a second run that reuses everything.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct EngineStagesTests {
    static let manifestText = """
    {
      "name": "engine-stages",
      "model": {"name": "smollm2-135m-instruct"},
      "datasets": {
        "facts": {"path": "\(Fixtures.datasets.path)/facts_true_false/facts_true_false.csv", "splits": {"few": {"rows": [0, 16]}}},
        "gpt4": {"path": "\(Fixtures.datasets.path)/gpt4_facts/gpt4_facts.csv", "splits": {"few": {"rows": [0, 6]}}},
        "wiki": "\(Fixtures.datasets.path)/wikitext-2-raw/wiki.test.raw",
        "paper": "\(Fixtures.datasets.path)/representation_tuning_outputs",
        "cv": "control-vector.gguf"
      },
      "stages": [
        {"id": "acts", "kind": "collect_activations", "params": {"dataset": "facts:few", "layers": [3, 8, 15], "positions": ["last", -2]}},
        {"id": "vec", "kind": "vectors", "inputs": {"activations": "acts"}},
        {"id": "sweep", "kind": "steering_sweep", "inputs": {"vector": "vec"},
         "params": {"dataset": "gpt4:few", "layers": [8], "multipliers": [-6, 6], "include_zero_out": true, "max_new_tokens": 6}},
        {"id": "steered", "kind": "evaluate", "inputs": {"vector": "vec"},
         "params": {"task": "facts", "dataset": "gpt4:few", "variant": "steered", "layer": 8, "multiplier": 6, "max_new_tokens": 6}},
        {"id": "base", "kind": "evaluate", "params": {"task": "facts", "dataset": "gpt4:few", "max_new_tokens": 6}},
        {"id": "paper_base", "kind": "evaluate", "params": {"task": "facts", "dataset": "paper", "paper_condition": "base", "labels": "gpt4"}},
        {"id": "paper_truth_tqa", "kind": "evaluate", "params": {"task": "tqa", "dataset": "paper", "paper_condition": "truth_tuned"}},
        {"id": "vec_import", "kind": "vectors", "params": {"import": "cv"}},
        {"id": "steered_import", "kind": "evaluate", "inputs": {"vector": "vec_import"},
         "params": {"task": "facts", "dataset": "gpt4:few", "variant": "steered", "layer": 8, "multiplier": 20, "max_new_tokens": 6}},
        {"id": "ppl", "kind": "perplexity", "params": {"dataset": "wiki", "window": 64, "stride": 32, "max_tokens": 128}}
      ]
    }
    """

    /// Runs the manifest once per test process (the tests below read the same store).
    static let run: Result<(dir: URL, first: RunSummary, second: RunSummary), Error> = Result {
        let dir = try Fixtures.temporaryDirectory("engine-stages")
        let file = dir.appendingPathComponent("manifest.json")
        try Data(manifestText.utf8).write(to: file)
        try ControlVectorFile(directions: [8: importedDirection]).write(to: dir.appendingPathComponent("control-vector.gguf"), layerCount: 30)
        let manifest = try Manifest.load(from: file, options: ManifestOptions(modelSearchDirectories: [Fixtures.repoRoot]))
        let experiment = ExperimentRun(manifest: manifest, resultsDirectory: dir.appendingPathComponent("results"),
                                       options: PlanOptions(engineVersion: EngineVersion.current))
        let first = try experiment.execute(cancellation: CancellationFlag(), observer: nil)
        let second = try experiment.execute(cancellation: CancellationFlag(), observer: nil)
        return (dir, first, second)
    }

    static func store() throws -> Store { try Store(directory: run.get().dir.appendingPathComponent("results")) }

    static func cells(_ stageID: String) throws -> (key: String, cells: [CellRecord]) {
        let store = try store()
        let key = try #require(try store.stages().last { $0.stageID == stageID }).key
        return (key, try store.cells(key))
    }

    static let model: LanguageModel = try! LanguageModel(gguf: Fixtures.defaultModel)

    /// A fixed unit direction written as a control-vector GGUF for the `import` form of the vectors stage.
    static let importedDirection: [Float] = {
        var g = SeededGenerator(seed: 17)
        let v = (0..<576).map { _ in g.nextUnit() - 0.5 }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }()

    @Test func importedControlVectorSteersLikeADirectIntervention() throws {
        let store = try Self.store()
        let cell = try Self.cells("vec_import").cells[0]
        let file = try ControlVectorFile(contentsOf: store.artifactURL(try #require(cell.artifacts["vectors"])))
        #expect(file.directions == [8: Self.importedDirection])
        let (key, _) = try Self.cells("steered_import")
        let stored = try store.generations(key, cell: 0)
        let ids = Self.model.tokenizer.encode(stored[1].prompt, parseSpecial: true)
        let direct = Self.model.network.generate(
            [GenerationRequest(prompt: ids, interventions: [.steer(layer: 8, vector: Self.importedDirection, multiplier: 20)])],
            options: GenerationOptions(maxNewTokens: 6, stopTokens: Self.model.tokenizer.stopTokenIDs))[0]
        #expect(Self.model.tokenizer.decode(direct.tokens, skipSpecial: true) == stored[1].output)
    }

    @Test func everyStageRunsThenTheSecondRunComputesNothing() throws {
        let (_, first, second) = try Self.run.get()
        #expect(!first.failed, "\(first)")
        for (id, outcome) in first.outcomes { #expect(outcome != .cached, "\(id) was cached on the first run") }
        #expect(second.cellsComputed == 0)
        for (id, outcome) in second.outcomes { #expect(outcome == .cached, "\(id): \(outcome) on the second run") }
    }

    @Test func activationsMatchADirectForwardPass() throws {
        let (_, cells) = try Self.cells("acts")
        let store = try Self.store()
        let acts = try ActivationArtifact(contentsOf: store.artifactURL(try #require(cells[0].artifacts["activations"])))
        #expect(acts.layers == [3, 8, 15] && acts.offsets == [0, 2] && acts.paired)
        #expect(acts.positive[0]!.count == 16 && acts.negative[2]!.count == 16)
        // Pair 3's dishonest prompt, one sequence on its own, captured at block 8, two tokens before the end.
        let statements = try TrueFalseStatements.parse(csv: String(contentsOf: Fixtures.datasets.appendingPathComponent("facts_true_false/facts_true_false.csv"), encoding: .utf8),
                                                       name: "facts", source: "facts").statements
        let prompt = ContrastPrompts.paired(Array(statements[0..<16]))[3].dishonest
        let template = try #require(Self.model.chatTemplate)
        let ids = prompt.tokens(Self.model.tokenizer, template: template)
        var items = [ForwardItem(tokens: ids, cache: Self.model.network.makeCache(),
                                 interventions: [.capture(.block(8), positions: .all)], logits: .none)]
        let capture = Self.model.network.forward(&items)[0].captures[0]
        let direct = Array(try #require(capture.row(at: ids.count - 3)))
        let stored = Array(acts.negative[2]!.row(3, layer: 8))
        let err = zip(direct, stored).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
        let norm = direct.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        #expect(err / norm < 1e-4, "relative error \(err / norm)")
    }

    @Test func vectorsAreTheNormalisedMeanDifferenceWithDiagnostics() throws {
        let store = try Self.store()
        let acts = try ActivationArtifact(contentsOf: store.artifactURL(try #require(try Self.cells("acts").cells[0].artifacts["activations"])))
        let cell = try Self.cells("vec").cells[0]
        let file = try ControlVectorFile(contentsOf: store.artifactURL(try #require(cell.artifacts["vectors"])))
        #expect(Set(file.directions.keys) == [3, 8, 15])
        for layer in [3, 8, 15] {
            let h = acts.positive[0]!, x = acts.negative[0]!, d = h.width
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<16 { for j in 0..<d { mean[j] += Double(h.row(i, layer: layer)[h.row(i, layer: layer).startIndex + j] - x.row(i, layer: layer)[x.row(i, layer: layer).startIndex + j]) / 16 } }
            let n = mean.map { $0 * $0 }.reduce(0, +).squareRoot()
            let v = try #require(file.directions[layer])
            let cosine = zip(mean, v).map { $0 / n * Double($1) }.reduce(0, +)
            #expect(cosine > 0.99999, "layer \(layer): cos \(cosine)")
        }
        let rows = try #require(cell.outputs["layers"]?.arrayValue)
        #expect(rows.count == 3)
        for row in rows {
            let auroc = try #require(row["auroc"]?.doubleValue)
            #expect(auroc >= 0 && auroc <= 1)
            #expect(row["lens_positive"]?.arrayValue?.count == 10 && row["lens_negative"]?.arrayValue?.count == 10)
        }
        #expect(cell.metrics["best_auroc"] == rows.compactMap { $0["auroc"]?.doubleValue }.max())
    }

    @Test func sweepWithPrefixReuseEqualsOnlineSteering() throws {
        let store = try Self.store()
        let (sweepKey, sweep) = try Self.cells("sweep")
        #expect(sweep.count == 3 && sweep.allSatisfy { $0.status == .done })
        let plus = try #require(sweep.first { $0.coordinates["multiplier"]?.doubleValue == 6 })
        let (steeredKey, _) = try Self.cells("steered")
        let fromSweep = try store.generations(sweepKey, cell: plus.index).map(\.output)
        let online = try store.generations(steeredKey, cell: 0).map(\.output)
        #expect(fromSweep.count == 6 && fromSweep == online)
        #expect(sweep.contains { $0.coordinates["zero_out"]?.boolValue == true })
    }

    @Test func evaluationStoresScoredGreedyAnswers() throws {
        let store = try Self.store()
        let (key, cells) = try Self.cells("base")
        let generations = try store.generations(key, cell: 0)
        #expect(generations.count == 6)
        let m = cells[0].metrics
        let honest = Double(generations.filter { $0.score == 1 }.count)
        #expect(m["n"] == 6 && m["honest"] == honest)
        #expect(abs(m["honest_pct"]! - 100 * honest / 6) < 1e-9)
        #expect(m["honest_ci_low"]! <= m["honest_pct"]! && m["honest_pct"]! <= m["honest_ci_high"]!)
        #expect(m["logit_p_honest"] != nil && m["logit_honest_pct"] != nil)
        // Item 0 answered directly by the engine, greedy, from the stored prompt text.
        let ids = Self.model.tokenizer.encode(generations[0].prompt, parseSpecial: true)
        let direct = Self.model.network.generate([GenerationRequest(prompt: ids)],
                                                 options: GenerationOptions(maxNewTokens: 6, stopTokens: Self.model.tokenizer.stopTokenIDs))[0]
        #expect(Self.model.tokenizer.decode(direct.tokens, skipSpecial: true) == generations[0].output)
    }

    @Test func rescoringThePaperReproducesItsNumbers() throws {
        let base = try Self.cells("paper_base").cells[0].metrics
        #expect(base["honest_pct"] == 81.0 && base["dishonest_pct"] == 19.0 && base["n"] == 200)
        let truth = try Self.cells("paper_truth_tqa").cells[0].metrics
        #expect(truth["honest_pct"] == 56.5)
    }

    @Test func perplexityScoresTheTokenBudget() throws {
        let m = try Self.cells("ppl").cells[0].metrics
        #expect(m["tokens"] == 128)
        let ppl = try #require(m["perplexity"])
        #expect(ppl > 5 && ppl < 200, "perplexity \(ppl)")
        #expect(abs(exp(m["nll"]! / 128) - ppl) < 1e-6 * ppl)
    }
}
