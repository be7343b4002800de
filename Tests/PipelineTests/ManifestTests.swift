import Foundation
import Testing
import Pipeline
import TestSupport

@Suite("Manifest decoding and validation")
struct ManifestTests {
    @Test func fullSampleDecodes() throws {
        let m = try Samples.decode(Samples.full)
        #expect(m.name == "honesty-small")
        #expect(m.model.template == "chatml")
        #expect(m.model.url.path == "/nonexistent/model.gguf")
        #expect(m.datasets.map(\.name) == ["facts", "tqa", "wiki"])
        #expect(m.dataset("facts")?.split("train")?.selection == .rows(0..<488))
        #expect(m.stages.map(\.id) == ["acts", "honesty_vec", "sweep", "tuned", "eval_tuned", "eval_steered", "judged", "ppl", "topic", "report"])

        // ActAdd: 2 layers × 1 coefficient, then the one baseline cell (`baseline` defaults to true).
        #expect(try #require(m.stage("topic")).cells.map(\.coordinatesJSON)
                == ["{\"coefficient\":4,\"layer\":10}", "{\"coefficient\":4,\"layer\":12}", "{\"baseline\":true}"])

        let acts = try #require(m.stage("acts"))
        #expect(try acts.params.ints("layers") == [10, 11, 12, 13, 14])   // {"range": [10, 14]} with step 1
        #expect(try acts.params.ints("positions") == [0, -7])             // "last" → 0
        #expect(try acts.params.int("batch_size") == 8)                   // catalog default
        #expect(acts.cells.count == 1 && acts.cells[0].coordinates.isEmpty)
        #expect(acts.datasetUses == [DatasetUse(dataset: "facts", split: "train")])

        // Defaults: manifest `defaults` beat the catalog's, stage params beat both.
        let sweep = try #require(m.stage("sweep"))
        #expect(try sweep.params.int("max_new_tokens") == 20)
        #expect(try m.stage("eval_steered")?.params.int("max_new_tokens") == 20)

        // Grid: 3 layers × 9 multipliers (−20…20 step 5) + 3 zero-out cells.
        #expect(sweep.cells.count == 3 * 9 + 3)
        #expect(sweep.cells[0].coordinatesJSON == "{\"layer\":10,\"multiplier\":-20}")
        #expect(sweep.cells[9].coordinatesJSON == "{\"layer\":12,\"multiplier\":-20}")
        #expect(sweep.cells[27].coordinatesJSON == "{\"layer\":10,\"zero_out\":true}")
        #expect(sweep.cells.map(\.index) == Array(0..<30))

        let tuned = try #require(m.stage("tuned"))
        #expect(tuned.cells.map(\.coordinatesJSON) == ["{\"lr_other\":0.000001,\"lr_vo\":0.00001}", "{\"lr_other\":0.000001,\"lr_vo\":0.00002}"])
        #expect(m.stage("report")?.dependencies == ["sweep", "eval_tuned", "judged", "ppl"])
    }

    /// A stage's other model (a judge) is a path relative to the manifest's folder, like every path in a manifest;
    /// naming the manifest's own model (by path as written, by name or by file) gives nil.
    @Test func otherModelsResolveAgainstTheManifestsFolder() throws {
        let m = try Manifest.decode(#"{"name": "m", "model": {"path": "../models/base.gguf"}, "stages": [{"id": "acts", "kind": "collect_activations", "params": {"dataset": "d", "layers": [0]}}], "datasets": {"d": "d.csv"}}"#,
                                    baseDirectory: URL(fileURLWithPath: "/study/experiments"), options: Samples.noFiles)
        #expect(m.model.url.path == "/study/models/base.gguf")
        #expect(m.model.otherModel("judges/judge.gguf")?.path == "/study/experiments/judges/judge.gguf")
        #expect(m.model.otherModel("/abs/judge.gguf")?.path == "/abs/judge.gguf")
        #expect(m.model.otherModel("../models/base.gguf") == nil)
        #expect(m.model.otherModel("../experiments/../models/base.gguf") == nil)
    }

    @Test func decimalRangesDoNotDrift() throws {
        let text = Samples.full(replacing: "\"multipliers\": {\"range\": [-20, 20, 5]}", with: "\"multipliers\": {\"range\": [0, 1, 0.1]}")
        let sweep = try #require(try Samples.decode(text).stage("sweep"))
        let multipliers = try #require(sweep.params["multipliers"]?.arrayValue)
        #expect(multipliers.map(\.description) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"])
    }

    @Test func scalarListAndRangeGridsNormaliseAlike() throws {
        let a = try Samples.decode(Samples.full(replacing: "\"layers\": [10, 12, 14]", with: "\"layers\": {\"range\": [10, 14, 2]}"))
        let b = try Samples.decode(Samples.full)
        #expect(a.stage("sweep")?.params == b.stage("sweep")?.params)
        let c = try Samples.decode(Samples.full(replacing: "\"layer\": 12", with: "\"layer\": [12]"))
        #expect(c.stage("eval_steered")?.params == b.stage("eval_steered")?.params)
    }

    // MARK: every kind of validation error, with its message

    @Test func vectorsNeedActivationsUnlessImported() throws {
        let missing = Samples.errors(Samples.full(replacing: "\"inputs\": {\"activations\": \"acts\"}", with: "\"inputs\": {}"))
        #expect(missing.map(\.description).contains { $0.contains("stages[1].inputs.activations") && $0.contains("required when import is absent") },
                "\(missing)")
        let imported = try Samples.decode(Samples.full(replacing: "\"inputs\": {\"activations\": \"acts\"}", with: "\"inputs\": {}")
            .replacingOccurrences(of: "{\"method\": \"pca\", \"component\": 2}", with: "{\"import\": \"facts\"}"))
        #expect(imported.stage("honesty_vec")?.params["import"]?.stringValue == "facts")
    }

    @Test func invalidJSONReportsLineAndColumn() {
        let errors = Samples.errors("{\n  \"name\": \"x\",\n  \"stages\": [\n    {\"id\": \"a\" \"kind\": \"report\"}\n  ]\n}")
        #expect(errors.count == 1)
        #expect(errors.first?.description == "$ (line 4, column 16): expected valid JSON, found expected ',' or '}' after the value of \"id\" (object opened at line 4, column 5), found '\"'")
    }

    @Test func unknownKeysAreReportedWithSuggestions() {
        let text = Samples.full(replacing: "\"name\": \"honesty-small\"", with: "\"name\": \"honesty-small\", \"stagse\": []")
            .replacingOccurrences(of: "\"method\": \"pca\"", with: "\"methd\": \"pca\"")
            .replacingOccurrences(of: "{\"id\": \"ppl\", \"kind\": \"perplexity\",", with: "{\"id\": \"ppl\", \"kind\": \"perplexity\", \"input\": {},")
        let errors = Samples.errors(text)
        let texts = errors.map(\.description)
        #expect(texts.contains { $0.hasPrefix("stagse (line 2, column 28): expected a key of the manifest: $schema, name, description, model, datasets, defaults, stages, executor, found unknown key \"stagse\"; did you mean \"stages\"?") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[1].params.methd") && $0.hasSuffix("found unknown key \"methd\"; did you mean \"method\"?") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[7].input") && $0.hasSuffix("did you mean \"inputs\"?") }, "\(texts)")
        #expect(errors.count == 3)
    }

    @Test func wrongTypesNameThePathExpectedAndFound() {
        let text = Samples.full(replacing: "\"layers\": [10, 12, 14]", with: "\"layers\": [10, \"twelve\", 14]")
            .replacingOccurrences(of: "\"component\": 2", with: "\"component\": 0")
            .replacingOccurrences(of: "\"max_tokens\": 4096", with: "\"max_tokens\": 40.5")
            .replacingOccurrences(of: "\"include_zero_out\": true", with: "\"include_zero_out\": \"yes\"")
        let texts = Samples.errors(text).map(\.description)
        #expect(texts.contains { $0.hasPrefix("stages[2].params.layers[1] (line ") && $0.hasSuffix("expected integer in 0...4095, an array of those or {\"range\": [lo, hi, step]}, found string \"twelve\"") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[1].params.component") && $0.hasSuffix("expected integer in 1...1048576, found integer 0") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[7].params.max_tokens") && $0.hasSuffix("expected integer in 1...9007199254740991, found number 40.5") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[2].params.include_zero_out") && $0.hasSuffix("expected boolean (true or false), found string \"yes\"") }, "\(texts)")
        #expect(texts.count == 4)
    }

    @Test func choicesSuggestNearMisses() {
        let texts = Samples.errors(Samples.full(replacing: "\"method\": \"pca\"", with: "\"method\": \"mean-diff\"")).map(\.description)
        #expect(texts.count == 1)
        #expect(texts.first?.hasSuffix("expected one of \"mean_diff\", \"pca\", found string \"mean-diff\"; did you mean \"mean_diff\"?") == true, "\(texts)")
    }

    @Test func unknownStageKindsAreReportedWithSuggestions() {
        let texts = Samples.errors(Samples.full(replacing: "\"kind\": \"vectors\"", with: "\"kind\": \"vector\"")).map(\.description)
        #expect(texts.contains { $0.hasPrefix("stages[1].kind (line ") && $0.hasSuffix("expected a stage kind: collect_activations, vectors, steering_sweep, tune, evaluate, judge, perplexity, actadd_topic, caa_vectors, caa_ab_sweep, caa_open_ended, caa_conditional, report, found unknown kind \"vector\"; did you mean \"vectors\"?") }, "\(texts)")
    }

    @Test func referencesToMissingStagesSuggestIds() {
        let texts = Samples.errors(Samples.full(replacing: "\"inputs\": {\"vector\": \"honesty_vec\"}},\n    {\"id\": \"tuned\"",
                                                with: "\"inputs\": {\"vector\": \"honesty_vex\"}},\n    {\"id\": \"tuned\"")).map(\.description)
        #expect(texts.count == 1)
        #expect(texts.first?.hasPrefix("stages[2].inputs.vector (line ") == true)
        #expect(texts.first?.hasSuffix("expected the id of a stage in this manifest, found no stage \"honesty_vex\"; did you mean \"honesty_vec\"?") == true, "\(texts)")
    }

    @Test func inputsOfTheWrongKindAreRejected() {
        let texts = Samples.errors(Samples.full(replacing: "\"inputs\": {\"activations\": \"acts\"}", with: "\"inputs\": {\"activations\": \"sweep\"}")).map(\.description)
        #expect(texts.contains { $0.hasSuffix("expected a stage of kind collect_activations, found \"sweep\" of kind steering_sweep") }, "\(texts)")
    }

    @Test func cyclesAreNamed() {
        let loop = """
        {"name": "loop", "stages": [
          {"id": "a", "kind": "report", "inputs": {"from": ["b"]}},
          {"id": "b", "kind": "report", "inputs": {"from": ["c", "a"]}},
          {"id": "c", "kind": "report", "inputs": {"from": "c"}}
        ]}
        """
        let texts = Samples.errors(loop).map(\.description)
        #expect(texts.contains { $0.hasPrefix("stages[1].inputs.from[1]") && $0.hasSuffix("expected inputs that do not lead back to the stage, found a cycle: a → b → a") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[2].inputs.from") && $0.hasSuffix("found a cycle: c → c") }, "\(texts)")
        #expect(texts.count == 2)
    }

    @Test func missingFilesAreReported() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("statement,label\n".utf8).write(to: dir.appendingPathComponent("facts.csv"))
        let text = """
        {"name": "files", "model": "weights/none.gguf",
         "datasets": {"facts": {"path": "facts.csv", "splits": {"train": {"file": "train-idx.json"}}}, "gone": "gone.csv"},
         "stages": [{"id": "a", "kind": "collect_activations", "params": {"dataset": "facts:train"}}]}
        """
        let url = dir.appendingPathComponent("m.json")
        try Data(text.utf8).write(to: url)
        do throws(ManifestErrors) {
            _ = try Manifest.load(from: url)
            Issue.record("missing files accepted")
        } catch {
            let texts = error.errors.map(\.description)
            #expect(texts.contains("model (line 1, column 28): expected an existing model file or Hugging Face model directory, found no such file: \(dir.path)/weights/none.gguf"), "\(texts)")
            #expect(texts.contains { $0.hasPrefix("datasets.facts.splits.train.file") && $0.hasSuffix("no such file: \(dir.path)/train-idx.json") }, "\(texts)")
            #expect(texts.contains { $0.hasPrefix("datasets.gone.path") && $0.hasSuffix("no such file: \(dir.path)/gone.csv") }, "\(texts)")
            #expect(texts.count == 3)
            #expect(error.description.hasPrefix("\(url.path): 3 errors\n"))
        }
    }

    @Test func unknownDatasetsAndSplitsAreReported() {
        let texts = Samples.errors(Samples.full(replacing: "\"dataset\": \"facts:train\", \"layers\"", with: "\"dataset\": \"fact:train\", \"layers\"")
            .replacingOccurrences(of: "\"validation\": \"facts:val\"", with: "\"validation\": \"facts:valid\"")).map(\.description)
        #expect(texts.contains { $0.hasPrefix("stages[0].params.dataset") && $0.hasSuffix("expected one of the declared datasets: facts, tqa, wiki, found unknown dataset \"fact\"; did you mean \"facts\"?") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[3].params.validation") && $0.hasSuffix("expected a split of \"facts\": train, val, found unknown split \"valid\"; did you mean \"val\"?") }, "\(texts)")
    }

    @Test func missingRequiredFieldsAndConditionalRequirements() {
        let text = """
        {"stages": [
          {"kind": "evaluate", "params": {"task": "facts", "dataset": "d", "variant": "steered"}},
          {"id": "t", "kind": "tune", "params": {"objective": "honesty", "layers": [1]}}
        ], "datasets": {"d": "d.csv"}}
        """
        let texts = Samples.errors(text).map(\.description)
        #expect(texts.contains("name (line 1, column 1): expected string (required), found nothing"), "\(texts)")
        #expect(texts.contains("stages[0].id (line 2, column 3): expected string (required), found nothing"), "\(texts)")
        #expect(texts.contains("stages[0].params.layer (line 2, column 3): expected integer in 0...4095 (required when variant is \"steered\"), found nothing"), "\(texts)")
        #expect(texts.contains("stages[0].inputs.vector (line 2, column 3): expected the id of a vectors stage (required when variant is \"steered\"), found nothing"), "\(texts)")
        #expect(texts.contains("stages[1].params.dataset (line 3, column 41): expected dataset name declared in \"datasets\", optionally \"name:split\" (required by tune), found nothing"), "\(texts)")
        #expect(texts.contains("stages[1].inputs.vector (line 3, column 3): expected the id of a vectors stage (required when objective is \"honesty\"), found nothing"), "\(texts)")
    }

    @Test func badDefaultsAndRangesAreReportedAtTheirOwnPath() {
        let text = Samples.full(replacing: "\"defaults\": {\"max_new_tokens\": 20}", with: "\"defaults\": {\"max_new_tokens\": \"many\", \"max_new_token\": 3}")
            .replacingOccurrences(of: "{\"range\": [-20, 20, 5]}", with: "{\"range\": [-20, 20, -5]}")
            .replacingOccurrences(of: "{\"range\": [10, 14]}", with: "{\"range\": [10, 14, 0.5]}")
        let texts = Samples.errors(text).map(\.description)
        #expect(texts.contains { $0.hasPrefix("defaults.max_new_tokens") && $0.hasSuffix("expected integer in 1...1048576, found string \"many\"") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("defaults.max_new_token") && $0.hasSuffix("did you mean \"max_new_tokens\"?") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[2].params.multipliers.range[2]") && $0.hasSuffix("expected a step going from -20 towards 20 (positive), found -5") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("stages[0].params.layers.range[2]") && $0.hasSuffix("expected integer, found number 0.5") }, "\(texts)")
        // The bad default is reported once, not once per stage using it.
        #expect(texts.filter { $0.hasPrefix("defaults.max_new_tokens ") }.count == 1)
    }

    @Test func duplicateIdsAndBadModelNames() {
        let text = Samples.full(replacing: "{\"id\": \"ppl\"", with: "{\"id\": \"acts\"")
            .replacingOccurrences(of: "\"model\": {\"path\": \"model.gguf\", \"template\": \"chatml\"}", with: "\"model\": \"smollm2-135m-instruc\"")
        let texts = Samples.errors(text).map(\.description)
        #expect(texts.contains { $0.hasPrefix("stages[7].id") && $0.hasSuffix("expected a stage id not used before, found \"acts\", already the id of stages[0]") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("model") && $0.hasSuffix("did you mean \"smollm2-135m-instruct\"?") }, "\(texts)")
    }

    @Test func allErrorsAreReportedAtOnce() {
        let text = """
        {"name": "many", "stages": [
          {"id": "a", "kind": "vectorz"},
          {"id": "b", "kind": "vectors", "params": {"method": 3}, "inputs": {"activations": "nope"}},
          {"id": "c", "kind": "steering_sweep", "params": {"layers": [], "multipliers": [1, "x"], "dataset": "none"}, "inputs": {"vector": "b"}}
        ]}
        """
        let errors = Samples.errors(text)
        let paths = Set(errors.map(\.path.description))
        #expect(paths == ["stages[0].kind", "stages[1].params.method", "stages[1].inputs.activations",
                          "stages[2].params.layers", "stages[2].params.multipliers[1]", "stages[2].params.dataset"], "\(errors)")
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func namedModelIsFoundUnderAParentDirectory() throws {
        let m = try Manifest.decode("{\"name\": \"n\", \"datasets\": {\"w\": \"\(Fixtures.repoRoot.path)/Package.swift\"}, \"stages\": [{\"id\": \"p\", \"kind\": \"perplexity\", \"params\": {\"dataset\": \"w\"}}]}",
                                    baseDirectory: Fixtures.repoRoot.appendingPathComponent("Tests/PipelineTests"))
        #expect(m.model.url.path == Fixtures.defaultModel.standardizedFileURL.path)
    }
}

/// The model object's `weights`: decoded, refused with a JSON path when unknown, and in the cache key exactly when
/// it resolves to native.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel))
struct ManifestWeightsPolicyTests {
    func manifest(_ weights: String?) -> String {
        let w = weights.map { #", "weights": "\#($0)""# } ?? ""
        return #"{"name": "w", "model": {"path": "\#(Fixtures.defaultModel.path)"\#(w)}, "datasets": {"d": "d.txt"}, "#
            + #""stages": [{"id": "ppl", "kind": "perplexity", "params": {"dataset": "d"}}]}"#
    }

    /// One folder for every plan, so the store hashes the model once.
    static let dir = try! Fixtures.temporaryDirectory("reptune-weights")

    func key(_ weights: String?) throws -> String {
        let dir = Self.dir
        try Data("some text to score\n".utf8).write(to: dir.appendingPathComponent("d.txt"))
        try Data(manifest(weights).utf8).write(to: dir.appendingPathComponent("manifest.json"))
        let store = try Store(directory: dir.appendingPathComponent("results"))
        let plan = try Planner.plan(try Manifest.load(from: dir.appendingPathComponent("manifest.json")),
                                    options: PlanOptions(engineVersion: 1), store: store)
        return try #require(plan.stage("ppl")).key.hex
    }

    @Test func decodedAndValidated() throws {
        let m = try Manifest.decode(manifest("native"), baseDirectory: URL(fileURLWithPath: "/tmp"), options: Samples.noFiles)
        #expect(m.model.weights == .native)
        let absent = try Manifest.decode(manifest(nil), baseDirectory: URL(fileURLWithPath: "/tmp"), options: Samples.noFiles)
        #expect(absent.model.weights == .auto)
        let error = #expect(throws: ManifestErrors.self) {
            try Manifest.decode(manifest("natve"), baseDirectory: URL(fileURLWithPath: "/tmp"), options: Samples.noFiles)
        }
        let text = "\(error!)"
        #expect(text.contains("model.weights") && text.contains("natve") && text.contains("did you mean \"native\""))
    }

    /// SmolLM2's auto resolves to fp32 (0.5 GB of fp32 weights): the same key as fp32 and as before the policy
    /// existed; native gets a key of its own.
    @Test func nativeWeightsChangeTheKey() throws {
        let auto = try key(nil), fp32 = try key("fp32"), native = try key("native")
        #expect(auto == fp32)
        #expect(native != fp32)
        #expect(try key("auto") == auto)
    }
}

/// The named models a manifest accepts are the ones `make model MODEL=name` fetches.
@Test func modelCatalogMatchesTheFetchCatalog() throws {
    let data = try Data(contentsOf: Fixtures.repoRoot.appendingPathComponent("scripts/models.json"))
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let models = try #require(root["models"] as? [[String: Any]])
    var fetched = [String: String]()
    for m in models { fetched[m["name"] as! String] = m["file"] as? String }
    #expect(fetched == ModelCatalog.named)
    #expect(models.first { ($0["default"] as? Bool) == true }?["name"] as? String == ModelCatalog.defaultName)
}
