import Engine
import Foundation
import Pipeline
import Testing
import TestSupport

/// The protocol every executor shares, on the real stage runners: a unit computed by `UnitWorker` (what `reptune
/// worker` runs) and ingested by the coordinator stores exactly what the local executor stores — metrics, outputs,
/// generations, artifact sha256 — and ingesting a bundle twice stores it once; a truncated bundle, a bundle of
/// another unit and a bundle whose artifact is missing are refused with nothing stored.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct WorkerProtocolTests {
    static let manifestText = """
    {
      "name": "worker-protocol",
      "model": {"name": "smollm2-135m-instruct"},
      "datasets": {
        "facts": {"path": "\(Fixtures.datasets.path)/facts_true_false/facts_true_false.csv", "splits": {"few": {"rows": [0, 12]}}},
        "gpt4": {"path": "\(Fixtures.datasets.path)/gpt4_facts/gpt4_facts.csv", "splits": {"few": {"rows": [0, 4]}}}
      },
      "stages": [
        {"id": "acts", "kind": "collect_activations", "params": {"dataset": "facts:few", "layers": [8], "positions": ["last"]}},
        {"id": "vec", "kind": "vectors", "inputs": {"activations": "acts"}},
        {"id": "steered", "kind": "evaluate", "inputs": {"vector": "vec"},
         "params": {"task": "facts", "dataset": "gpt4:few", "variant": "steered", "layer": 8, "multiplier": 6, "max_new_tokens": 5}}
      ]
    }
    """

    static func experiment(_ dir: URL, only: [String] = []) throws -> ExperimentRun {
        let file = dir.appendingPathComponent("manifest.json")
        if !FileManager.default.fileExists(atPath: file.path) { try Data(manifestText.utf8).write(to: file) }
        let manifest = try Manifest.load(from: file, options: ManifestOptions(modelSearchDirectories: [Fixtures.repoRoot]))
        return ExperimentRun(manifest: manifest, resultsDirectory: dir.appendingPathComponent("results"),
                             options: PlanOptions(only: only, engineVersion: EngineVersion.current))
    }

    /// The local run, and a store where `acts` ran locally and `vec` and `steered` were computed by the worker and
    /// ingested (twice); with the worker's bundles.
    static let runs: Result<(local: URL, worker: URL, dir: URL, bundles: [String: ResultBundle], twice: [IngestOutcome]), Error> = Result {
        let localDir = try Fixtures.temporaryDirectory("worker-protocol-local")
        let local = try experiment(localDir)
        #expect(try !local.execute(cancellation: CancellationFlag(), observer: nil).failed)

        let dir = try Fixtures.temporaryDirectory("worker-protocol-units")
        let partial = try experiment(dir, only: ["acts"])
        #expect(try !partial.execute(cancellation: CancellationFlag(), observer: nil).failed)
        let full = try experiment(dir)
        let plan = try full.plan()
        let results = full.resultsDirectory
        let store = try Store(directory: results)
        for s in plan.stages {
            try store.ensureStage(key: s.key.hex, stageID: s.id, kind: s.spec.kind, paramsJSON: CanonicalJSON.encode(s.spec.params.json),
                                  keyJSON: s.key.material, cells: s.spec.cells)
        }
        let run = try store.beginRun(manifest: plan.manifest, claimer: Claimer())
        try store.recordRunStages(run, stages: plan.stages.map { ($0.id, $0.key.hex) })
        var bundles: [String: ResultBundle] = [:]
        var twice: [IngestOutcome] = []
        for id in ["vec", "steered"] {
            let s = try #require(plan.stage(id))
            let bundle = try UnitWorker.run(s.key.hex, in: results, manifestOptions: ManifestOptions(modelSearchDirectories: [Fixtures.repoRoot]),
                                            engineVersion: EngineVersion.current)
            let read = try ResultBundle.read(bundle.unit.bundleURL(in: results), expected: bundle.unit)
            twice.append(try store.ingest(read))
            twice.append(try store.ingest(read))
            try store.setStageStatus(s.key.hex, .done)
            bundles[id] = bundle
        }
        return (local.resultsDirectory, results, results, bundles, twice)
    }

    @Test func workerComputedUnitsStoreExactlyWhatTheLocalExecutorStores() throws {
        let (localDir, workerDir, _, _, _) = try Self.runs.get()
        let (local, worker) = (try Store(directory: localDir), try Store(directory: workerDir))
        for id in ["vec", "steered"] {
            let a = try #require(try local.stages().first { $0.stageID == id })
            let b = try #require(try worker.stages().first { $0.stageID == id })
            #expect(a.key == b.key)
            let (ca, cb) = (try local.cells(a.key), try worker.cells(b.key))
            #expect(ca.count == cb.count && !ca.isEmpty)
            for (x, y) in zip(ca, cb) {
                #expect(y.status == .done)
                #expect(x.metrics == y.metrics, "\(id) cell \(x.index) metrics")
                #expect(x.outputs == y.outputs)
                #expect(x.artifacts.mapValues(\.sha256) == y.artifacts.mapValues(\.sha256))
                #expect(try local.generations(a.key, cell: x.index) == worker.generations(b.key, cell: y.index))
            }
            let metricRows = "SELECT count(*) FROM metrics WHERE stage_key = ?"
            #expect(try local.db.query(metricRows, [.text(a.key)]).first?[0].int == worker.db.query(metricRows, [.text(b.key)]).first?[0].int)
        }
        #expect(try !local.cells(try #require(try local.stages().first { $0.stageID == "vec" }).key)[0].artifacts.isEmpty)
        #expect(try local.generations(try #require(try local.stages().first { $0.stageID == "steered" }).key, cell: 0).count == 4)
    }

    @Test(.enabled(if: CLI.executable != nil, CLI.missing))
    func theProcessesExecutorStoresWhatTheLocalExecutorStores() throws {
        let (localDir, _, _, _, _) = try Self.runs.get()
        let dir = try Fixtures.temporaryDirectory("worker-protocol-processes")
        try Data(Self.manifestText.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        let run = try CLI.run(["run", "manifest.json", "--results", "results", "--executor", "processes", "--workers", "2"],
                              timeout: 600, directory: dir)
        #expect(run.status == 0, "\(run)")
        let (local, workers) = (try Store(readOnlyDirectory: localDir), try Store(readOnlyDirectory: dir.appendingPathComponent("results")))
        for id in ["acts", "vec", "steered"] {
            let key = try #require(try local.stages().first { $0.stageID == id }).key
            #expect(try workers.stage(key)?.status == .done)
            for (x, y) in zip(try local.cells(key), try workers.cells(key)) {
                #expect(x.metrics == y.metrics && x.outputs == y.outputs && x.artifacts.mapValues(\.sha256) == y.artifacts.mapValues(\.sha256))
                #expect(try local.generations(key, cell: x.index) == workers.generations(key, cell: y.index))
            }
        }
        let units = try workers.units()
        #expect(units.count == 3 && units.allSatisfy { $0.executor == "processes" && $0.state == "done" && $0.job?.hasPrefix("pid:") == true }, "\(units)")
    }

    @Test func ingestingABundleTwiceStoresItOnce() throws {
        let (_, _, _, _, twice) = try Self.runs.get()
        #expect(twice.map(\.stored) == [1, 0, 1, 0])
        #expect(twice.map(\.alreadyStored) == [0, 1, 0, 1])
    }

    @Test func truncatedForeignAndArtifactlessBundlesAreRefusedWithNothingStored() throws {
        let (_, dir, _, bundles, _) = try Self.runs.get()
        let store = try Store(directory: dir)
        let bundle = try #require(bundles["vec"])
        let url = bundle.unit.bundleURL(in: dir)
        let bytes = try Data(contentsOf: url)
        let cut = dir.appendingPathComponent("cut.bundle")
        try bytes.prefix(bytes.count - 7).write(to: cut)
        #expect { try ResultBundle.read(cut, expected: bundle.unit) } throws: { "\($0)".contains("truncated") && "\($0)".contains("nothing was ingested") }
        let other = WorkUnit(stageKey: try #require(bundles["steered"]).unit.stageKey, cells: [0])
        #expect { try ResultBundle.read(url, expected: other) } throws: { "\($0)".contains("holds unit \(bundle.unit)") && "\($0)".contains("expected \(other)") }
        var edited = bytes
        edited[edited.count - 3] ^= 1
        try edited.write(to: cut)
        #expect { try ResultBundle.read(cut, expected: bundle.unit) } throws: { "\($0)".contains("sha256") }

        // A fresh stage whose bundle names an artifact that never arrived: refused whole, the cell stays pending.
        let key = String(repeating: "ab", count: 32)
        try store.ensureStage(key: key, stageID: "ghost", kind: .vectors, paramsJSON: "{}", keyJSON: "{}",
                              cells: [SweepCell(index: 0, coordinates: [])])
        var ghost = bundle
        ghost.unit = WorkUnit(stageKey: key, cells: [0])
        ghost.results[0].result.artifacts["vectors"] = ArtifactRef(sha256: String(repeating: "0", count: 64), bytes: 3,
                                                                   path: "artifacts/00/" + String(repeating: "0", count: 64))
        #expect { try store.ingest(ghost) } throws: { "\($0)".contains("is not in the results directory") }
        #expect(try store.cellCounts(key).pending == 1)
    }
}
