import Engine
import Foundation

/// What `reptune run` was asked for beyond the manifest.
public struct PlanOptions: Sendable {
    /// Run only these stages (and what they need); empty = all.
    public var only: [String]
    /// Recompute these stages and everything depending on them, even if cached.
    public var force: [String]
    /// The engine's numeric version, part of every cache key.
    public var engineVersion: Int

    public init(only: [String] = [], force: [String] = [], engineVersion: Int) {
        self.only = only
        self.force = force
        self.engineVersion = engineVersion
    }
}

/// One stage in a plan: its key, what will happen to it, and its cells.
public struct PlannedStage: Sendable {
    /// What the run will do with the stage.
    public enum Action: String, Sendable, Hashable {
        /// Every cell is stored under the same key: reused, nothing computed.
        case cached
        /// Some or all cells must be computed (a partial stage resumes).
        case run
        /// Recomputed because of `--force` (itself or an ancestor).
        case forced
        /// Stored, but the files it produced are not in this results directory (a store carried without its large
        /// artifacts, e.g. the committed study store) and a stage that runs reads them: computed again.
        case restore
        /// Not selected by `--only` and not needed by a selected stage.
        case skipped

        /// Whether the run computes cells of the stage.
        public var computes: Bool { self == .run || self == .forced || self == .restore }
        /// Whether the stage's stored cells are discarded before it runs.
        public var discardsStored: Bool { self == .forced || self == .restore }
    }

    public var spec: StageSpec
    public var key: StageKey
    /// Slot → keys of the stages feeding it.
    public var inputKeys: [StageInput]
    public var action: Action
    public var cellsTotal: Int
    /// Cells already stored (0 when forced).
    public var cellsDone: Int
    /// The digest each file or directory in the key had when planned, by standardized path (model, datasets, split
    /// files, a judge model): a stage reading one checks the bytes it reads against it (`StageContext`).
    public var contentDigests: [String: String] = [:]
    /// Why the stage is computed although a run stored it under another key (`RecomputeReasons`); empty when
    /// nothing was stored under an earlier key of its id.
    public var recomputeReasons: [String] = []

    public var id: String { spec.id }
}

/// The stages of a manifest in dependency order, each with its cache key and whether it will be reused or
/// computed. `description` is what `reptune run --dry-run` prints.
public struct Plan: Sendable, CustomStringConvertible {
    public var manifest: Manifest
    public var stages: [PlannedStage]
    public var options: PlanOptions
    /// The model file is not on this machine: the plan is valid but its keys are provisional and it cannot run.
    public var modelMissing = false

    public func stage(_ id: String) -> PlannedStage? { stages.first { $0.id == id } }

    public var description: String {
        var lines = ["plan for \(manifest.name) (\(stages.count) stages):"]
        let width = max(5, stages.map(\.id.count).max() ?? 0)
        for s in stages {
            let id = s.id.padding(toLength: width, withPad: " ", startingAt: 0)
            let kind = s.spec.kind.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0)
            let what: String
            switch s.action {
            case .cached: what = "cached      \(s.cellsTotal) cell\(s.cellsTotal == 1 ? "" : "s")"
            case .run where s.cellsDone > 0: what = "resume      \(s.cellsTotal - s.cellsDone) of \(s.cellsTotal) cells to run"
            case .run: what = "run         \(s.cellsTotal) cell\(s.cellsTotal == 1 ? "" : "s")"
            case .forced: what = "run (force) \(s.cellsTotal) cell\(s.cellsTotal == 1 ? "" : "s")"
            case .restore: what = "run again   \(s.cellsTotal) cell\(s.cellsTotal == 1 ? "" : "s") (stored, but its artifacts are not here)"
            case .skipped: what = "skipped (not selected by --only)"
            }
            lines.append("  \(id)  \(kind) \(what)   key \(s.key.short)")
            if !s.recomputeReasons.isEmpty {
                lines.append("  " + String(repeating: " ", count: width) + "  because " + s.recomputeReasons.joined(separator: "; "))
            }
        }
        let toRun = stages.filter { $0.action.computes }
        let cells = toRun.reduce(0) { $0 + $1.cellsTotal - $1.cellsDone }
        if modelMissing {
            lines.append("model file \(manifest.model.url.path) is missing here: keys are provisional, running needs the file")
        }
        lines.append("\(toRun.count) stage\(toRun.count == 1 ? "" : "s") to run (\(cells) cell\(cells == 1 ? "" : "s")), "
                     + "\(stages.filter { $0.action == .cached }.count) cached")
        return lines.joined(separator: "\n")
    }
}

/// Computes cache keys and decides, against a store, which stages are cached and which must run.
public enum Planner {
    public static func plan(_ manifest: Manifest, options: PlanOptions, store: Store) throws -> Plan {
        let graph = StageGraph(manifest.stages)
        let ids = manifest.stages.map(\.id)
        for (flag, names) in [("--only", options.only), ("--force", options.force)] {
            for name in names where graph.stage(name) == nil {
                let hint = NearMiss.suggestion(for: name, in: ids).map { "; \($0)" } ?? ""
                throw PlanError("\(flag) \(name): no such stage in \(manifest.name) (stages: \(ids.joined(separator: ", ")))\(hint)")
            }
        }
        let order = try graph.topologicalOrder()
        let selected = options.only.isEmpty ? Set(ids) : graph.withAncestors(Set(options.only))
        let forced = graph.withDescendants(Set(options.force))

        // A missing model is planned with a placeholder digest (`--dry-run` of a manifest for a model that is not
        // here); running needs the file. Datasets and split files are hashed from their bytes on every plan (they
        // are small); the model through the store's identity-checked cache. Each file once per plan.
        var digests = PlanDigests(store: store)
        let modelMissing = !FileManager.default.fileExists(atPath: manifest.model.url.path)
        let modelSHA = modelMissing ? "missing-model" : try digests.model(manifest.model.url, what: "model")
        // The weights policy resolved from the file's header (`auto` by size). A model that is missing or whose
        // header cannot be read keeps what was asked (its keys are provisional, or loading it will fail).
        let summary = modelMissing ? nil : try? ModelFileSummary(contentsOf: manifest.model.url)
        let weights = summary?.resolve(manifest.model.weights) ?? manifest.model.weights
        var keys: [String: StageKey] = [:]
        var planned: [PlannedStage] = []
        for spec in order {
            let inputKeys = spec.inputs.map { StageInput(slot: $0.slot, stages: $0.stages.compactMap { keys[$0]?.hex }) }
            var datasets: [(use: DatasetUse, sha256: String, split: JSONValue?)] = []
            var read: [String: String] = modelMissing ? [:] : [PlanDigests.key(manifest.model.url): modelSHA]
            for use in spec.datasetUses {
                guard let ds = manifest.dataset(use.dataset) else { throw PlanError("stage \(spec.id): no dataset \(use.dataset)") }
                let sha = try digests.content(ds.url, what: "dataset \(ds.name)")
                read[PlanDigests.key(ds.url)] = sha
                let split = try use.split.flatMap { ds.split($0) }.map {
                    try $0.selection.keyJSON { url in
                        let sha = try digests.content(url, what: "split file of \(ds.name)")
                        read[PlanDigests.key(url)] = sha
                        return sha
                    }
                }
                datasets.append((use, sha, split))
            }
            let files = try otherModelFiles(spec, manifest: manifest, digests: &digests)
            if let judge = files.file { read[PlanDigests.key(judge.url)] = judge.sha256 }
            let key = StageKey(kind: spec.kind, codeVersion: spec.kind.declaration.version, params: spec.params, inputKeys: inputKeys, modelSHA256: modelSHA,
                               modelTemplate: manifest.model.template, datasets: datasets,
                               files: files.roles, nativeWeights: weights == .native, engineVersion: options.engineVersion)
            keys[spec.id] = key
            let counts = try store.cellCounts(key.hex)
            let stored = try store.stage(key.hex)
            let action: PlannedStage.Action
            if !selected.contains(spec.id) {
                action = .skipped
            } else if forced.contains(spec.id) {
                action = .forced
            } else if stored?.status == .done, counts.done == spec.cells.count {
                action = .cached
            } else {
                action = .run
            }
            var stage = PlannedStage(spec: spec, key: key, inputKeys: inputKeys, action: action, cellsTotal: spec.cells.count,
                                     cellsDone: action == .forced ? 0 : counts.done, contentDigests: read)
            if action == .run, stored == nil, let earlier = try store.latestKeyMaterial(stageID: spec.id, other: key.hex) {
                stage.recomputeReasons = RecomputeReasons.between(earlier, key.material, spec: spec)
            }
            planned.append(stage)
        }
        try restoreMissingArtifacts(&planned, store: store)
        return Plan(manifest: manifest, stages: planned, options: options, modelMissing: modelMissing)
    }

    /// A cached stage whose artifact files are missing from the results directory is computed again when a stage
    /// that computes reads its artifacts (kinds whose `readsInputArtifacts`); otherwise it stays cached, since its
    /// stored numbers are all that reports, judges and queries read. Walks the plan from the end, so a restored
    /// stage's own inputs are checked in turn.
    static func restoreMissingArtifacts(_ planned: inout [PlannedStage], store: Store) throws {
        let index = Dictionary(uniqueKeysWithValues: planned.enumerated().map { ($1.id, $0) })
        for i in planned.indices.reversed() where planned[i].action.computes && planned[i].spec.kind.readsInputArtifacts {
            for input in planned[i].spec.inputs.flatMap(\.stages) {
                guard let j = index[input], planned[j].action == .cached,
                      try !store.missingArtifacts(planned[j].key.hex).isEmpty else { continue }
                planned[j].action = .restore
                planned[j].cellsDone = 0
            }
        }
    }

    /// Model files other than the manifest's a stage reads — a local judge's `model` — by role → sha256
    /// ("missing" when the file is not there: the stage itself then fails with the path), and the file hashed.
    static func otherModelFiles(_ spec: StageSpec, manifest: Manifest,
                                digests: inout PlanDigests) throws -> (roles: [String: String], file: (url: URL, sha256: String)?) {
        guard spec.kind == .judge, spec.params["backend"]?.stringValue ?? "local" == "local",
              let name = spec.params["model"]?.stringValue, let url = manifest.model.otherModel(name) else { return ([:], nil) }
        guard FileManager.default.fileExists(atPath: url.path) else { return (["judge_model": "missing"], nil) }
        let sha = try digests.model(url, what: "judge model of stage \(spec.id)")
        return (["judge_model": sha], (url, sha))
    }
}

/// The digests one plan computes, each file once: models through the store's identity-checked cache (they are
/// large), datasets and split files from their bytes every time (they are small, and an edit must never hide).
struct PlanDigests {
    let store: Store
    private var known: [String: String] = [:]

    init(store: Store) { self.store = store }

    /// How a path is named in `PlannedStage.contentDigests`.
    static func key(_ url: URL) -> String { url.resolvingSymlinksInPath().standardizedFileURL.path }

    mutating func model(_ url: URL, what: String) throws -> String {
        let store = self.store
        return try memo(url, what: what) { try store.digest(of: url, what: what) }
    }

    mutating func content(_ url: URL, what: String) throws -> String {
        try memo(url, what: what) { try ContentDigest.of(url, what: what) }
    }

    private mutating func memo(_ url: URL, what: String, _ compute: () throws -> String) throws -> String {
        let k = Self.key(url)
        if let sha = known[k] { return sha }
        do {
            let sha = try compute()
            known[k] = sha
            return sha
        } catch {
            throw PlanError("cannot hash the \(what) at \(url.path): \(error)")
        }
    }
}

