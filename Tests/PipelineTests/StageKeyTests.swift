import Pipeline
import Testing

@Test func stageKeyIsCanonicalJSON() throws {
    let m = try Manifest.parse(validManifestText)
    let key = try #require(StageKey(manifest: m, stageID: "sweep", inputKeys: ["vectors": "abc"], modelSHA: "m1",
                                    datasetSHAs: ["pairs": "d1", "wiki": "d2"], engineVersion: "0.1"))
    #expect(key.canonicalJSON == #"{"datasets":{"pairs":{"limit":256,"name":"true_false_facts","sha":"d1","split":"train"}},"engine":"0.1","inputs":{"vectors":"abc"},"kind":"steering_sweep","model":{"sha":"m1","template":"chatml"},"params":{"dataset":"pairs","layers":[6,8],"max_new_tokens":32,"multipliers":[-2,-1,0,1,2],"positions":"all","zero_out":false}}"#)
    #expect(key.hashed { "h(\($0.count))" } == "h(\(key.canonicalJSON.count))")
    #expect(StageKey(manifest: m, stageID: "missing", inputKeys: [:], modelSHA: "", datasetSHAs: [:], engineVersion: "") == nil)
}

@Test func equivalentManifestsGiveEqualKeys() throws {
    func key(_ params: String) throws -> String {
        let m = try Manifest.parse(manifest(stages: #"[{"id": "t", "kind": "tune", "params": \#(params), "inputs": {"vectors": "v"}}, {"id": "v", "kind": "vectors", "params": {"method": "pca"}, "inputs": {"activations": "a"}}, {"id": "a", "kind": "collect_activations", "params": {"dataset": "d"}}]"#))
        return try #require(StageKey(manifest: m, stageID: "t", inputKeys: ["vectors": "k"], modelSHA: "s", datasetSHAs: [:], engineVersion: "1")).canonicalJSON
    }
    // Key order, a range versus its expansion, and spelling out a default make no difference.
    let a = try key(#"{"kind": "truth", "layers": {"range": [2, 6, 2]}}"#)
    let b = try key(#"{"layers": [2, 4, 6], "epochs": 3, "kind": "truth"}"#)
    #expect(a == b)
    #expect(a.contains(#""lr_attention":1e-5"#))
    #expect(try key(#"{"kind": "truth", "layers": [2, 4, 6], "seed": 7}"#) != a)
}
