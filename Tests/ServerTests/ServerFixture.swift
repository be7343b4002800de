import Engine
import Foundation
import ModelFormats
import Pipeline
import Server
import Testing
import TestSupport

/// One `ReptuneServer` on SmolLM2 for the suites of this process (loopback, port chosen by the system), with a
/// results store built as the stages store (docs/RESULTS.md): a `vectors` stage `honesty_vec` (random unit
/// directions at blocks 3, 5, 10, 20, with norms and AUROCs) and a `tune` stage `honesty_tune` whose variant's block
/// 5 differs from the base (its `ffn_norm` scaled); the same directions are also a loose file `steer.gguf`.
final class ServerFixture: @unchecked Sendable {
    static let shared: ServerFixture? = Fixtures.hasModel ? try! ServerFixture() : nil

    let server: ReptuneServer
    let client: LoopbackClient
    let results: URL
    let vectorFile: URL
    let language: LanguageModel
    /// The direction the vector file holds for `steeredLayers`.
    let directions: [Int: [Float]]
    static let steeredLayers = [3, 5, 10, 20]

    init() throws {
        language = try LanguageModel(path: Fixtures.defaultModel)
        let c = language.network.config
        results = try Fixtures.temporaryDirectory("reptune-serve")
        let store = try Store(directory: results)
        // Unit directions from a fixed generator.
        var rng = SplitMix(seed: 21)
        var directions: [Int: [Float]] = [:]
        for l in Self.steeredLayers {
            let v = (0..<c.embeddingLength).map { _ in Float(rng.nextDouble() * 2 - 1) }
            let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            directions[l] = v.map { $0 / norm }
        }
        self.directions = directions
        vectorFile = results.appendingPathComponent("steer.gguf")
        try ControlVectorFile(directions: directions).write(to: vectorFile, layerCount: c.blockCount)
        // A variant: block 5's ffn_norm scaled by 1.3.
        let norm = language.network.weights.blocks[5].ffnNorm
        let scaled = (0..<norm.count).map { norm.pointer[$0] * 1.3 }
        var w = GGUFWriter()
        w.set("general.architecture", .string("reptune-variant"))
        try w.addTensor(name: "blk.5.ffn_norm.weight", shape: [c.embeddingLength], values: scaled)
        let variantFile = results.appendingPathComponent("variant.gguf")
        try w.write(to: variantFile)
        try Self.storeStages(store, vectors: vectorFile, variant: variantFile)
        let library = try SteeringLibrary(results: results)
        var settings = ReptuneServer.Settings()
        settings.port = 0
        settings.maxBatch = 32
        settings.maxTokens = 256
        settings.limits.requestTimeout = 3
        server = try ReptuneServer(language: language, library: library, settings: settings)
        try server.start()
        client = LoopbackClient(port: server.port)
    }

    var baseName: String { server.catalog.names[0] }

    /// A run with a done `vectors` stage and a done `tune` stage whose artifacts are these files.
    static func storeStages(_ store: Store, vectors: URL, variant: URL) throws {
        try store.db.run("INSERT INTO runs (manifest_name, base_directory, manifest_text, status, started_at) VALUES ('serve', '/x', '{}', 'done', 1)")
        let claimer = Claimer(token: "serve-fixture")
        let layers: [JSONValue] = steeredLayers.map { .object(["layer": .int($0), "norm": .double(Double($0) / 2), "auroc": .double(0.5 + Double($0) / 50)]) }
        let stages: [(String, StageKind, CellResult)] = [
            ("honesty_vec", .vectors, CellResult(outputs: .object(["layers": .array(layers)]),
                                                 artifacts: [StageArtifact.vectors: try store.writeArtifact(Data(contentsOf: vectors))])),
            ("honesty_tune", .tune, CellResult(artifacts: [StageArtifact.variant: try store.writeArtifact(Data(contentsOf: variant))])),
        ]
        for (id, kind, result) in stages {
            let key = "key-\(id)"
            try store.ensureStage(key: key, stageID: id, kind: kind, paramsJSON: "{}", keyJSON: "{}", cells: [SweepCell(index: 0, coordinates: [])])
            let cells = try store.claimCells(key, limit: 1, claimer: claimer)
            _ = try store.commitCell(key, cells[0], result, claimer: claimer)
            try store.setStageStatus(key, .done)
        }
        try store.recordRunStages(1, stages: stages.map { (stageID: $0.0, key: "key-\($0.0)") })
    }

    /// POSTs a JSON body and returns the response (status, parsed JSON).
    func post(_ path: String, _ body: String) throws -> LoopbackClient.Response {
        guard let r = try client.request("POST", path, body: body) else { throw CocoaError(.fileReadCorruptFile) }
        return r
    }

    /// A greedy chat completion's generated token ids (`reptune.token_ids`), text and finish reason.
    func chat(_ user: String, maxTokens: Int, steering: String = "[]", model: String? = nil) throws -> (ids: [Int], text: String, finish: String) {
        let body = """
        {"model": "\(model ?? baseName)", "messages": [{"role": "user", "content": \(JSONStringLiteral.quoted(user))}],
         "max_tokens": \(maxTokens), "temperature": 0, "steering": \(steering)}
        """
        let r = try post("/v1/chat/completions", body)
        guard r.status == 200, let json = r.json else { throw ServerTestError("status \(r.status): \(r.body)") }
        let ids = json["reptune"]?["token_ids"]?.arrayValue?.compactMap(\.intValue) ?? []
        let choice = json["choices"]?.arrayValue?.first
        return (ids, choice?["message"]?["content"]?.stringValue ?? "", choice?["finish_reason"]?.stringValue ?? "")
    }
}

struct ServerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A small seeded generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// The suites that talk to servers run one at a time (they share `ServerFixture.shared`, count its decode steps,
/// and time requests).
@Suite(.serialized) enum ServerSuites {}
