import Pipeline
import Testing

@Test func validManifestDecodes() throws {
    let m = try Manifest.parse(validManifestText)
    #expect(m.name == "honesty-smollm")
    #expect(m.model == ModelRef(source: .named("smollm2-135m"), template: "chatml"))
    #expect(m.datasets["pairs"] == DatasetRef(name: "true_false_facts", split: "train", limit: 256))
    #expect(m.stages.map(\.kind) == StageKind.allCases)
    #expect(m.stage("vec")?.inputs == ["activations": "acts"])
    let sweep = try #require(m.resolvedParams("sweep"))
    #expect(sweep["max_new_tokens"] == 32)  // manifest default beats the table default 24
    #expect(sweep["zero_out"] == false)
    #expect(sweep["positions"] == "all")
    #expect(m.resolvedParams("tuned")?["lr_attention"] == 1e-5)
}

@Test func modelDefaultsToSmolLM() throws {
    let m = try Manifest.parse(manifest(stages: #"[{"id": "p", "kind": "perplexity", "params": {"dataset": "d"}}]"#))
    #expect(m.model == ModelRef(source: .named("smollm2-135m")))
}

@Test func syntaxErrorsComeThroughWithPosition() {
    #expect(messages("{\"name\": \"x\",\n  \"stages\": [x]}") == ["manifest.json:2:14: expected a value but found 'x'"])
}

@Test func wrongElementTypeInGrid() {
    let text = manifest(stages: #"[{"id": "a", "kind": "collect_activations", "params": {"dataset": "d", "layers": [1, "x"]}}]"#)
    #expect(messages(text) == [#"stages[0].params.layers[1]: expected an integer, found "x""#])
}

@Test func unknownParameterSuggestsNearest() {
    let text = manifest(stages: """
        [{"id": "v", "kind": "vectors", "params": {"method": "pca"}, "inputs": {}},
         {"id": "s", "kind": "steering_sweep", "params": {"dataset": "d", "layers": [1], "multiplers": [1]}, "inputs": {"vectors": "v"}}]
        """)
    #expect(messages(text) == [
        #"stages[0].inputs.activations: expected the id of a collect_activations stage (required by vectors), found nothing"#,
        #"stages[1].params.multiplers: expected a parameter of steering_sweep, found unknown key "multiplers" (did you mean "multipliers"?)"#,
        #"stages[1].params.multipliers: expected a list of numbers or {"range": [lo, hi, step]} (required by steering_sweep), found nothing"#,
    ])
}

@Test func unknownTopLevelAndStageKeys() {
    let text = manifest(stages: #"[{"id": "p", "kind": "perplexity", "parms": {}}]"#, extra: #""nmae": 1,"#)
    #expect(messages(text) == [
        #"nmae: expected a manifest key (name, model, datasets, defaults, stages), found unknown key "nmae" (did you mean "name"?)"#,
        #"stages[0].parms: expected a stage key (id, kind, params, inputs), found unknown key "parms" (did you mean "params"?)"#,
        #"stages[0].params.dataset: expected the name of a dataset declared in datasets (required by perplexity), found nothing"#,
    ])
}

@Test func unknownStageKind() {
    let text = manifest(stages: #"[{"id": "a", "kind": "vector"}]"#)
    #expect(messages(text) == [
        #"stages[0].kind: expected one of "collect_activations", "vectors", "steering_sweep", "tune", "evaluate", "judge", "perplexity", "report", found "vector" (did you mean "vectors"?)"#,
    ])
}

@Test func enumerationValueSuggestion() {
    let text = manifest(stages: #"[{"id": "j", "kind": "judge", "params": {"backend": "openia"}, "inputs": {"outputs": "j"}}]"#)
    #expect(messages(text).contains(#"stages[0].params.backend: expected one of "local", "openai", found "openia" (did you mean "openai"?)"#))
}

@Test func duplicateStageIDs() {
    let text = manifest(stages: #"[{"id": "r", "kind": "report"}, {"id": "r", "kind": "report"}]"#)
    #expect(messages(text) == [#"stages[1].id: expected a unique stage id, found "r", already used by stages[0]"#])
}

@Test func inputNamingMissingStage() {
    let text = manifest(stages: #"[{"id": "acts", "kind": "collect_activations", "params": {"dataset": "d"}}, {"id": "v", "kind": "vectors", "params": {"method": "pca"}, "inputs": {"activations": "act"}}]"#)
    #expect(messages(text) == [#"stages[1].inputs.activations: expected the id of a stage in this manifest, found "act" (did you mean "acts"?)"#])
}

@Test func inputFromWrongKind() {
    let text = manifest(stages: #"[{"id": "r", "kind": "report"}, {"id": "v", "kind": "vectors", "params": {"method": "pca"}, "inputs": {"activations": "r"}}]"#)
    #expect(messages(text) == [#"stages[1].inputs.activations: expected a collect_activations stage, found "r" of kind report"#])
}

@Test func cyclesAreNamed() {
    let text = manifest(stages: #"[{"id": "a", "kind": "report", "inputs": {"x": "b"}}, {"id": "b", "kind": "report", "inputs": {"y": "a"}}, {"id": "c", "kind": "report", "inputs": {"self": "c"}}]"#)
    #expect(messages(text) == [
        "stages[0].inputs: expected inputs without cycles, found the cycle a → b → a",
        "stages[2].inputs: expected inputs without cycles, found the cycle c → c",
    ])
}

@Test func gridRangeErrors() {
    func sweep(_ multipliers: String) -> [String] {
        messages(manifest(stages: """
            [{"id": "a", "kind": "collect_activations", "params": {"dataset": "d"}},
             {"id": "v", "kind": "vectors", "params": {"method": "pca"}, "inputs": {"activations": "a"}},
             {"id": "s", "kind": "steering_sweep", "params": {"dataset": "d", "layers": [1], "multipliers": \(multipliers)}, "inputs": {"vectors": "v"}}]
            """))
    }
    #expect(sweep(#"{"range": [0, 1, 0]}"#) == ["stages[2].params.multipliers.range[2]: expected a non-zero step, found 0"])
    #expect(sweep(#"{"range": [5, 1, 1]}"#) == ["stages[2].params.multipliers.range[2]: expected a negative step (hi < lo), found 1"])
    #expect(sweep(#"{"range": [0, 100000, 1]}"#) == ["stages[2].params.multipliers.range: expected at most 10000 values, found 100001 values"])
    #expect(sweep(#"{"rnage": [0, 1, 1]}"#) == [
        #"stages[2].params.multipliers.rnage: expected only the key "range", found unknown key "rnage" (did you mean "range"?)"#,
        "stages[2].params.multipliers.range: expected [lo, hi, step], found nothing",
    ])
    #expect(sweep(#""big""#) == [#"stages[2].params.multipliers: expected a list of numbers or {"range": [lo, hi, step]}, found "big""#])
    #expect(sweep("[]") == ["stages[2].params.multipliers: expected at least one value, found an empty list"])
}

@Test func modelAndDatasetErrors() {
    let text = """
        {"name": "", "model": {"path": "m.gguf", "name": "x", "tmplate": "chatml"},
         "datasets": {"d": {"split": 3, "limit": 0}, "e": "wiki"},
         "defaults": {"max_new_token": 5, "batch_size": "big"},
         "stages": [{"id": "p", "kind": "collect_activations", "params": {"dataset": "d"}}]}
        """
    #expect(messages(text) == [
        #"name: expected a non-empty string, found """#,
        #"model.tmplate: expected a model key (path, name, template), found unknown key "tmplate" (did you mean "template"?)"#,
        #"model: expected exactly one of "path" or "name", found both"#,
        "datasets.d.name: expected a non-empty string, found nothing",
        "datasets.d.split: expected a string, found 3",
        "datasets.d.limit: expected a positive integer, found 0",
        "datasets.e: expected an object, found \"wiki\"",
        #"defaults.max_new_token: expected a parameter name of some stage kind, found unknown key "max_new_token" (did you mean "max_new_tokens"?)"#,
        #"defaults.batch_size: expected an integer, found "big""#,
    ])
}

@Test func allMistakesReportedAtOnce() {
    let text = manifest(stages: """
        [{"id": "a", "kind": "collect_activations", "params": {"dataset": "dd", "batch_size": 1.5, "prompt_format": "pair"}},
         {"id": "v", "kind": "vectors", "params": {"method": "pca", "component": "one"}, "inputs": {"activations": "a"}},
         {"id": "r", "kind": "reprot"}]
        """)
    let found = messages(text)
    #expect(found.count == 5)
    #expect(found == [
        #"stages[0].params.dataset: expected the name of a dataset declared in datasets, found "dd" (did you mean "d"?)"#,
        "stages[0].params.batch_size: expected an integer, found 1.5",
        #"stages[0].params.prompt_format: expected one of "paired", "unpaired", found "pair" (did you mean "paired"?)"#,
        #"stages[1].params.component: expected an integer, found "one""#,
        #"stages[2].kind: expected one of "collect_activations", "vectors", "steering_sweep", "tune", "evaluate", "judge", "perplexity", "report", found "reprot" (did you mean "report"?)"#,
    ])
}

@Test func unknownInputRole() {
    let text = manifest(stages: #"[{"id": "a", "kind": "collect_activations", "params": {"dataset": "d"}}, {"id": "v", "kind": "vectors", "params": {"method": "pca"}, "inputs": {"activation": "a", "activations": "a"}}]"#)
    #expect(messages(text) == [#"stages[1].inputs.activation: expected an input role of vectors (activations), found unknown key "activation" (did you mean "activations"?)"#])
}

@Test func positionsAndStringListErrors() {
    let text = manifest(stages: #"[{"id": "a", "kind": "collect_activations", "params": {"dataset": "d", "positions": "lst"}}, {"id": "b", "kind": "collect_activations", "params": {"dataset": "d", "positions": [-1, "x"]}}, {"id": "r", "kind": "report", "params": {"formats": "md"}}, {"id": "s", "kind": "report", "params": {"formats": ["md", 1]}}]"#)
    #expect(messages(text) == [
        #"stages[0].params.positions: expected "last" or a list of integer offsets, found "lst" (did you mean "last"?)"#,
        #"stages[1].params.positions[1]: expected an integer, found "x""#,
        #"stages[2].params.formats: expected a list of strings, found "md""#,
        "stages[3].params.formats[1]: expected a string, found 1",
    ])
}

@Test func wrongShapesAtTheTop() {
    #expect(messages("[]") == ["manifest: expected an object, found an empty list"])
    #expect(messages(#"{"name": "x", "stages": {}}"#) == ["stages: expected a list of stages, found an object"])
    #expect(messages(#"{"name": "x", "stages": [], "model": "m", "defaults": 1}"#) == [
        #"model: expected an object, found "m""#,
        "defaults: expected an object, found 1",
        "stages: expected at least one stage, found an empty list",
    ])
    #expect(messages(#"{"name": "x", "stages": [3, {"id": 1, "params": [], "inputs": "a"}]}"#) == [
        "stages[0]: expected an object, found 3",
        "stages[1].id: expected a non-empty string, found 1",
        #"stages[1].kind: expected one of "collect_activations", "vectors", "steering_sweep", "tune", "evaluate", "judge", "perplexity", "report", found nothing"#,
        "stages[1].params: expected an object, found an empty list",
        #"stages[1].inputs: expected an object, found "a""#,
    ])
}

@Test func defaultsAreCheckedEvenWhenUnused() {
    let text = manifest(stages: #"[{"id": "r", "kind": "report"}]"#, extra: #""defaults": {"window": "wide", "dataset": "nope"},"#)
    #expect(messages(text) == [
        #"defaults.dataset: expected the name of a dataset declared in datasets, found "nope""#,
        #"defaults.window: expected an integer, found "wide""#,
    ])
}

@Test func requiredParameterMayComeFromDefaults() throws {
    let m = try Manifest.parse(manifest(stages: #"[{"id": "p", "kind": "perplexity"}]"#, extra: #""defaults": {"dataset": "d"},"#))
    #expect(m.resolvedParams("p") == ["dataset": "d", "window": 1024, "stride": 512, "streams": 2])
}

@Test func stageIDsUseASafeAlphabet() {
    let text = manifest(stages: #"[{"id": "../x", "kind": "report"}, {"id": "ok-1_B", "kind": "report"}]"#)
    #expect(messages(text) == [#"stages[0].id: expected a stage id of letters, digits, '_' and '-', found "../x""#])
}
