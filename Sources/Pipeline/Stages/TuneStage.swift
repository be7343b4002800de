import Engine
import Experiments
import Foundation
import ModelFormats

extension StageRunner {
    /// The `tune` stage (METHOD.md §5; what it stores: docs/RESULTS.md §tune). One cell per (`lr_vo`, `lr_other`)
    /// combination; each cell fine-tunes a copy of the trainable blocks of the manifest's model.
    ///
    /// Data: the statements of `dataset` (and `validation`) — a true/false CSV — paired true with false in row
    /// order (`TuningStatementPairs`), or, when the split is a `file` holding the paper's split
    /// (`datasets/facts_true_false.split.json`: an object with `train` and `validation`), the paper's pairs: a
    /// split named `train` takes its `train` part, one named `val…` its `validation` part. Sequences are built per
    /// `objective` by `TuningExampleBuilder` through the model's chat template (or the manifest's), batches by
    /// `TuningBatches` (balanced, order fixed by `seed`, `epochs` passes). Validation: one validation batch per step
    /// (cycling), early stopping as `RepresentationTuner` does it; without `validation` there is no early stopping.
    ///
    /// Layers: `layers` are the trainable blocks and must be contiguous. The paper trained blocks 11–17 of
    /// Llama-2-13b's 40; for a model of B blocks the same relative depth is round(11·B/40) … round(17·B/40), e.g.
    /// 8…13 for SmolLM2-135M's 30 blocks (write it explicitly in the manifest, as `layers: {"range": [8, 13]}`).
    /// `probe_position` likewise depends on the template: the paper's −7 (a newline of "\n\nAnswer:" in its
    /// single-line Llama-2 prompt) is −8 in SmolLM2's ChatML prompt.
    ///
    /// Checkpoints: every `CellCheckpoint.interval` seconds and when the run is cancelled, the cell's
    /// full training state is written to `<results>/scratch/tune/<stage key>/cell-<index>.gguf`; a re-run of the
    /// cell (after Ctrl-C, a crash or a kill) resumes from it bit for bit and deletes it once the cell is committed.
    ///
    /// Stored per cell: artifact `variant` (the tuned tensors, F32 GGUF); metrics `steps`, `final_train_loss`,
    /// `final_validation_loss` (the last step's), `best_validation_loss` (the lowest moving mean of `val_window`
    /// validation losses — the quantity early stopping watches), `seconds` (training time, summed over resumes);
    /// outputs `objective`, `layers`, `history`, and `cosine_map` when a vector is connected: cos(h_L, v_L) for the
    /// base and the tuned model at every layer the vector covers, at offsets −10…0 from the last prompt token and
    /// the first 3 tokens each model generates greedily, averaged over the validation prompts (training prompts
    /// when there is no validation set).
    public static var tune: StageRunner {
        StageRunner(memoryEstimate: TuneStageSettings.memoryEstimate) { context in
            var job: TuneJob?
            while let cell = try context.nextCells(1).first {
                if job == nil { job = try TuneJob(context) }
                let result = try job!.run(cell)
                try context.commit(cell, result)
                job!.checkpoint(cell).remove()
            }
        }
    }
}

/// Constants of the `tune` runner.
public enum TuneStageSettings {
    /// Greedy tokens generated for the generated-token columns of the cosine map.
    public static let cosineMapGenerated = 3
    /// Prompt tokens before (and including) the last one in the cosine map.
    public static let cosineMapBefore = 10

    /// Rough peak bytes of a `tune` stage beyond the shared model: per trainable block its copy, gradient and two
    /// AdamW moments (≈ 16 MB each for SmolLM2-sized blocks), plus activations.
    public static func memoryEstimate(_ spec: StageSpec) -> Int {
        let blocks = (try? spec.params.ints("layers").count) ?? 8
        return blocks * 4 * 16 << 20 + 512 << 20
    }

    /// The statement pairs of a dataset parameter's dataset and split (see `StageRunner.tune`).
    public static func statementPairs(dataset ds: DatasetRef, split: DatasetSplit?,
                                      files: DatasetFiles = .unchecked) throws -> TuningStatementPairs {
        let data = try files.read(ds.url, "dataset \(ds.name)")
        let all = try TrueFalseStatements.parse(csv: String(decoding: data, as: UTF8.self), name: ds.name, source: ds.url.path)
        guard let split else { return TuningStatementPairs(all.statements) }
        // The paper's split file (an object with `train` and `validation` parts) serves `train` and `val…`.
        if case .file(_, let url) = split.selection,
           case let splitData = try files.read(url, "dataset \(ds.name), split \(split.name): the split file"),
           String(decoding: splitData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            let paper: FactsTuningSplit
            do { paper = try JSONDecoder().decode(FactsTuningSplit.self, from: splitData) } catch {
                throw DatasetError.malformed(path: url.path, line: nil,
                                             expected: "a split file with dataset, sha256, derivation, train{true,false}, validation{true,false}",
                                             found: "\(error)")
            }
            let digest = SHA256.hex(of: data)
            guard paper.sha256 == digest else {
                throw StageInputError("split file \(url.path): field sha256 is \(paper.sha256), but \(ds.url.path) has sha256 \(digest)")
            }
            if split.name == "train" { return TuningStatementPairs(pairs: try paper.trainingPairs(all)) }
            if split.name.hasPrefix("val") { return TuningStatementPairs(pairs: try paper.validationPairs(all)) }
            throw StageInputError("dataset \(ds.name), split \(split.name): a paper split file (\(url.path)) serves splits named "
                                  + "`train` or `val…`, not `\(split.name)`")
        }
        return TuningStatementPairs(try split.indices(count: all.count, dataset: ds.name, files: files).map { all.statements[$0] })
    }
}

/// What every cell of one `tune` stage shares: the base model, the batches, the vectors, the base cosine map.
struct TuneJob {
    let context: StageContext
    let params: TuneParams
    let base: StageModel
    let objective: TuningObjective
    let layers: [Int]
    let batches: [[TrainingSequence]]
    let validation: [[TrainingSequence]]
    let fingerprint: String
    let vectors: [Int: [Float]]?
    let mapPrompts: [[Int]]
    var baseMap: CosineMap?

    init(_ context: StageContext) throws {
        self.context = context
        let id = context.stage.id, params = try context.decodeParams(TuneParams.self)
        self.params = params
        base = try context.baseModel()
        let blockCount = base.network.config.blockCount, width = base.network.config.embeddingLength
        guard let objective = TuningObjective(rawValue: params.objective) else {
            throw StageInputError("stage \(id): parameter objective: expected one of \(TuningObjective.allCases.map(\.rawValue))")
        }
        self.objective = objective
        layers = params.layers.sorted()
        guard let lo = layers.first, let hi = layers.last, hi - lo + 1 == layers.count, Set(layers).count == layers.count else {
            throw StageInputError("stage \(id): parameter layers: expected contiguous blocks (e.g. 11–17), found \(layers)")
        }
        guard hi < blockCount else {
            throw StageInputError("stage \(id): parameter layers: block \(hi) does not exist; the model has blocks 0…\(blockCount - 1)")
        }
        let lossLayers = params.lossLayers ?? layers
        if let bad = lossLayers.first(where: { !(0..<blockCount).contains($0) }) {
            throw StageInputError("stage \(id): parameter loss_layers: block \(bad) does not exist; the model has blocks 0…\(blockCount - 1)")
        }
        // Vectors: needed by cosine objectives, optional (for the cosine map) otherwise.
        if objective.usesVector || context.input("vector") != nil {
            let directions = try context.steeringDirections(slot: "vector")
            if let (l, v) = directions.first(where: { $0.value.count != width }) {
                throw StageInputError("stage \(id): input vector: direction of layer \(l) has \(v.count) values; the model's width is \(width)")
            }
            vectors = directions
        } else {
            vectors = nil
        }
        let builder: TuningExampleBuilder
        do {
            builder = try TuningExampleBuilder(tokenizer: base.tokenizer, template: base.template, objective: objective,
                                               lossLayers: lossLayers, probePosition: params.probePosition,
                                               vectors: vectors ?? [:])
        } catch let e as TuningDataError { throw StageInputError("stage \(id): \(e)") }

        func pairs(_ param: String, _ name: String?) throws -> [TuningPair]? {
            guard let name else { return nil }
            guard let (ds, split) = context.dataset(param) else {
                throw StageInputError("stage \(id): parameter \(param): dataset `\(name)` is not declared in the manifest")
            }
            let statements = try TuneStageSettings.statementPairs(dataset: ds, split: split, files: context.datasetFiles)
            if statements.unpaired > 0 {
                context.log("\(param) \(name): \(statements.unpaired) statements without a partner of the other label are left out")
            }
            do { return try builder.pairs(statements.pairs) } catch let e as TuningDataError {
                throw StageInputError("stage \(id): \(param) \(name): \(e)")
            }
        }
        let trainPairs = try pairs("dataset", params.dataset) ?? []
        let validationPairs = try pairs("validation", params.validation)
        do {
            let batchSize = params.batchSize
            batches = try TuningBatches.training(trainPairs, batchSize: batchSize, epochs: params.epochs,
                                                 seed: UInt64(params.seed))
            validation = try validationPairs.map { try TuningBatches.validation($0, batchSize: batchSize) } ?? []
        } catch let e as TuningDataError { throw StageInputError("stage \(id): \(e)") }
        fingerprint = TuningBatches.fingerprint(batches) + "/" + TuningBatches.fingerprint(validation)
        let mapSource = validationPairs ?? trainPairs
        mapPrompts = mapSource.flatMap { [$0.true.sequence.tokens, $0.false.sequence.tokens] }
        if validationPairs == nil { context.log("no validation set: training runs every batch (no early stopping)") }
    }

    /// The cell's checkpoint file under the results directory.
    func checkpoint(_ cell: SweepCell) -> CellCheckpoint { CellCheckpoint(context, name: "cell-\(cell.index).gguf") }

    func settings(_ cell: SweepCell) throws -> TuningSettings {
        let p = params, id = context.stage.id
        guard let lrVO = context.value("lr_vo", in: cell)?.doubleValue, let lrOther = context.value("lr_other", in: cell)?.doubleValue else {
            throw StageInputError("stage \(id): cell \(cell): expected numbers for lr_vo and lr_other")
        }
        var s = TuningSettings(trainableBlocks: layers.first!..<(layers.last! + 1))
        s.attentionLearningRate = Float(lrVO)
        s.otherLearningRate = Float(lrOther)
        s.weightDecay = Float(p.weightDecay)
        s.epsilon = Float(p.adamEps)
        s.warmupSteps = p.warmupSteps
        s.epochs = p.epochs
        s.crossEntropyWeight = objective.crossEntropyWeight
        guard let routing = GradientRouting(rawValue: p.routing) else {
            throw StageInputError("stage \(id): parameter routing: expected as-run or as-intended")
        }
        s.routing = routing
        s.window = p.valWindow
        s.patience = p.patience
        s.minimumSteps = p.earlyStopping ? p.minSteps : Int.max
        return s
    }

    /// Where the cell keeps its gradients and AdamW moments: in memory, unless they would not fit in the memory
    /// available (`TrainingStatePlacement`), then in files under the stage's scratch folder, paged by the kernel.
    func makeTuner(_ settings: TuningSettings, cell: SweepCell) throws -> RepresentationTuner {
        let placement = TrainingStatePlacement.choose(model: base.network, settings: settings,
                                                      batch: params.batchSize,
                                                      tokens: batches.first?.map(\.tokens.count).max() ?? 128)
        switch placement {
        case .memory:
            return RepresentationTuner(base: base.network, settings: settings)
        case .disk(let reason):
            let directory = context.store.scratchDirectory(.tune).appendingPathComponent("\(context.key)/state-\(cell.index)")
            context.log("cell \(cell.index): gradients and AdamW moments on disk under \(directory.path) (\(reason))")
            return try RepresentationTuner(base: base.network, settings: settings, stateDirectory: directory)
        }
    }

    mutating func run(_ cell: SweepCell) throws -> CellResult {
        let settings = try settings(cell)
        var checkpoint = checkpoint(cell)
        let url = checkpoint.url
        var tuner = try makeTuner(settings, cell: cell)
        var previousSeconds = 0.0
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                let state = try tuner.restoreCheckpoint(from: url, fingerprint: fingerprint)
                previousSeconds = state.seconds
                context.log("cell \(cell.index): resuming from the checkpoint at step \(state.history.count)")
            } catch {
                context.log("cell \(cell.index): starting over; the checkpoint does not fit this run (\(error))")
                tuner = try makeTuner(settings, cell: cell)
                try? FileManager.default.removeItem(at: url)
            }
        }
        let started = Date()
        while !tuner.isFinished(batchCount: batches.count) {
            try checkpoint.reached(context, done: "cell \(cell.index): interrupted after step \(tuner.history.count)") {
                try tuner.writeCheckpoint(to: $0, fingerprint: fingerprint, seconds: previousSeconds + Date().timeIntervalSince(started))
            }
            guard let record = tuner.trainStep(batches: batches, validation: validation) else { break }
            guard record.trainLoss.isFinite, record.gradientNorm.isFinite else {
                let rates = cell.coordinates.map { "\($0.key) \(CanonicalJSON.encode($0.value))" }.joined(separator: ", ")
                throw NonFiniteError(stage: context.stage.id, cells: [cell], what: "the training loss or gradient at step \(record.step)",
                                     setting: "tuning blocks \(layers.map(String.init).joined(separator: ", "))\(rates.isEmpty ? "" : " with \(rates)")")
            }
            let epochs = max(1, tuner.settings.epochs), perEpoch = max(1, batches.count / epochs)
            let epoch = min(epochs, (record.step - 1) / perEpoch + 1)
            context.progress("steps", done: record.step, total: batches.count,
                             status: "epoch \(epoch)/\(epochs), train \(Self.format(record.trainLoss)) val \(record.validationLoss.map(Self.format) ?? "–")")
        }
        let seconds = previousSeconds + Date().timeIntervalSince(started)

        let baseDigest = try context.store.digest(of: context.model.url)
        let variant = try context.store.writeArtifact { try tuner.writeVariant(to: $0, baseSHA256: baseDigest) }
        var metrics: [String: Double] = ["steps": Double(tuner.history.count), "seconds": seconds]
        if let last = tuner.history.last { metrics["final_train_loss"] = last.trainLoss }
        if let v = tuner.history.last?.validationLoss { metrics["final_validation_loss"] = v }
        if tuner.stopping.best.isFinite { metrics["best_validation_loss"] = tuner.stopping.best }

        var outputs: [JSONMember] = [
            JSONMember(key: "objective", value: .string(objective.rawValue)),
            JSONMember(key: "layers", value: .array(layers.map(JSONValue.int))),
            JSONMember(key: "history", value: .array(tuner.history.map { r in
                .object([
                    "step": .int(r.step), "train": Self.number(r.trainLoss), "validation": r.validationLoss.map(Self.number) ?? .null,
                    "lr_scale": Self.number(Double(r.learningRateScale)), "grad_norm": Self.number(r.gradientNorm),
                ])
            })),
        ]
        if let vectors {
            let mapLayers = vectors.keys.sorted()
            if baseMap == nil {
                baseMap = CosineMap.measure(base.network, prompts: mapPrompts, directions: vectors, layers: mapLayers,
                                            before: TuneStageSettings.cosineMapBefore, generated: TuneStageSettings.cosineMapGenerated)
            }
            let tuned = CosineMap.measure(tuner.model, prompts: mapPrompts, directions: vectors, layers: mapLayers,
                                          before: TuneStageSettings.cosineMapBefore, generated: TuneStageSettings.cosineMapGenerated)
            func rows(_ m: CosineMap) -> JSONValue { .array(m.values.map { .array($0.map(Self.number)) }) }
            outputs.append(JSONMember(key: "cosine_map", value: .object([
                "layers": .array(tuned.layers.map(JSONValue.int)), "positions": .array(tuned.positions.map(JSONValue.int)),
                "base": rows(baseMap!), "tuned": rows(tuned),
            ])))
        }
        return CellResult(metrics: metrics, outputs: .object(outputs), artifacts: [StageArtifact.variant: variant])
    }

    static func number(_ x: Double) -> JSONValue { x.isFinite ? .double(x) : .null }
    static func format(_ x: Double) -> String { String(format: "%.4f", x) }
}

extension StageKind {
    public static let tune = StageKind(declaring: "tune")
}

extension StageDeclaration {
    /// Representation tuning (METHOD.md §5).
    public static let tune = StageDeclaration(
        StageKindSpec(
            .tune,
            summary: "Fine-tunes the chosen blocks (token loss, optionally plus a cosine loss towards the vector); "
                + "one sweep cell per learning-rate combination.",
            params: [
                ParamSpec("objective", .choice(["truth", "lie", "honesty", "dishonesty", "tune_out", "soft_target"]),
                          .required,
                          doc: "`truth`/`lie`: token loss on honest/swapped labels; `honesty`/`dishonesty`: token "
                               + "loss/100 plus cosine loss towards ±vector; `tune_out`: |cos| towards 0; "
                               + "`soft_target`: cross-entropy against 0.5/0.5."),
                ParamSpec("dataset", .dataset, .required, doc: "Training statements (e.g. `facts:train`)."),
                ParamSpec("validation", .dataset, .optional,
                          doc: "Validation statements for early stopping (e.g. `facts:val`)."),
                ParamSpec("layers", StageCatalog.layerList, .required, model: .block, doc: "Trainable blocks; all other weights stay frozen."),
                ParamSpec("loss_layers", StageCatalog.layerList, .optional, model: .block,
                          doc: "Blocks whose residual enters the cosine loss; absent = `layers`."),
                ParamSpec("probe_position", StageCatalog.offset, .defaulted(.int(-7)), model: .offsetBack,
                          doc: "Token read for the cosine loss, counted back from the last prompt token."),
                ParamSpec("lr_vo", StageCatalog.rate, .defaulted(.double(1e-5)), axis: "lr_vo",
                          doc: "Learning rate of attention V and O weights; a grid."),
                ParamSpec("lr_other", StageCatalog.rate, .defaulted(.double(1e-6)), axis: "lr_other",
                          doc: "Learning rate of the other trainable weights; a grid."),
                ParamSpec("weight_decay", StageCatalog.rate, .defaulted(.double(0.1)), doc: "AdamW weight decay."),
                ParamSpec("adam_eps", StageCatalog.rate, .defaulted(.double(1e-4)), doc: "AdamW epsilon."),
                ParamSpec("batch_size", StageCatalog.batch, .defaulted(.int(4)),
                          doc: "Statements per step, balanced true/false."),
                ParamSpec("epochs", .integer(min: 1, max: ManifestFields.maxSteps), .defaulted(.int(3)), doc: "Maximum passes over the data."),
                ParamSpec("warmup_steps", StageCatalog.steps, .defaulted(.int(10)),
                          doc: "Linear warm-up steps, then linear decay."),
                ParamSpec("routing", .choice(["as-run", "as-intended"]), .defaulted(.string("as-run")),
                          doc: "`as-run`: both losses reach all trainable weights (what the paper's code did); "
                               + "`as-intended`: the cosine loss reaches V/O weights only."),
                ParamSpec("seed", .integer(min: 0, max: ManifestFields.maxExactInteger), .defaulted(.int(0)), doc: "Seed of the batch order."),
                ParamSpec("early_stopping", .boolean, .defaulted(.bool(true)),
                          doc: "Stop when the mean of the last `val_window` validation losses stops improving."),
                ParamSpec("patience", .integer(min: 1, max: ManifestFields.maxSteps), .defaulted(.int(10)), doc: "Early stopping: steps without improvement."),
                ParamSpec("min_steps", StageCatalog.steps, .defaulted(.int(80)), doc: "Early stopping: never before this step."),
                ParamSpec("val_window", .integer(min: 1, max: ManifestFields.maxSteps), .defaulted(.int(20)),
                          doc: "Early stopping: validation losses averaged."),
            ],
            inputs: [
                InputSpec("vector", accepts: [.vectors], required: false,
                          doc: "Target vectors of the cosine loss (honesty, dishonesty, tune_out)."),
            ],
            rules: [
                ParamRule(when: "objective", in: ["honesty", "dishonesty", "tune_out"], requiresInputs: ["vector"]),
            ]),
        version: 1,
        params: TuneParams.self,
        outputs: StageOutputs(
            metrics: [
                .init("steps", "count", "Training steps taken."),
                .init("final_train_loss", "loss", "The last step's training loss."),
                .init("final_validation_loss", "loss", "The last step's validation loss."),
                .init("best_validation_loss", "loss", "The lowest moving mean of `val_window` validation losses (what early stopping watches)."),
                .init("seconds", "s", "Training time, summed over resumes."),
            ],
            artifacts: [.init(StageArtifact.variant, "GGUF", "The tuned tensors as an F32 GGUF (loads onto the base model; "
                + "`reptune export` writes a standalone model).")],
            notes: "One cell per learning-rate combination. Outputs: `{\"objective\": …, \"layers\": [...], \"history\": [{\"step\": k, "
                + "\"train\": x, \"validation\": y | null, \"lr_scale\": s, \"grad_norm\": g}, …], \"cosine_map\": {\"layers\": [...], "
                + "\"positions\": [...], \"base\": [[cos per position] per layer], \"tuned\": [[…]]}}` (positions are offsets from "
                + "the last prompt token; the paper's Figure 1; absent when no vector is connected)."),
        progress: .checkpointed(what: "full training state (weights, AdamW moments, step, early-stopping state)", packed: false),
        sources: ["Pipeline/Stages/TuneStage.swift", "Pipeline/Stages/TrainingStatePlacement.swift",
                  "Pipeline/Stages/CellCheckpoint.swift", "Pipeline/Stages/StageModels.swift", "Pipeline/Stages/StageDataset.swift", "Pipeline/Stages/NonFiniteError.swift", "Experiments/Tuning", "Experiments/Prompts",
                  "Experiments/Datasets", "Experiments/Vectors/Cosine.swift"],
        runner: .tune)
}

/// The parameters of `tune` (defaults and docs: its declaration; the learning rates are a cell's coordinates).
struct TuneParams: Decodable {
    var objective: String
    var dataset: String
    var validation: String?
    var layers: [Int]
    var lossLayers: [Int]?
    var probePosition: Int
    var weightDecay: Double
    var adamEps: Double
    var batchSize: Int
    var epochs: Int
    var warmupSteps: Int
    var routing: String
    var seed: Int
    var earlyStopping: Bool
    var patience: Int
    var minSteps: Int
    var valWindow: Int
    enum CodingKeys: String, CodingKey {
        case objective, dataset, validation, layers, epochs, routing, seed, patience
        case lossLayers = "loss_layers", probePosition = "probe_position", weightDecay = "weight_decay", adamEps = "adam_eps"
        case batchSize = "batch_size", warmupSteps = "warmup_steps", earlyStopping = "early_stopping", minSteps = "min_steps"
        case valWindow = "val_window"
    }
}
