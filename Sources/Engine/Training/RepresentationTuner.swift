import Foundation
import ModelFormats

/// Settings of a tuning run (METHOD.md §5; the defaults are the paper preset).
public struct TuningSettings: Sendable, Codable, Equatable {
    public var trainableBlocks: Range<Int>
    /// Learning rate of attention V and O weights.
    public var attentionLearningRate: Float = 1e-5
    /// Learning rate of every other weight of the trainable blocks.
    public var otherLearningRate: Float = 1e-6
    public var weightDecay: Float = 0.1
    public var epsilon: Float = 1e-4
    public var warmupSteps = 10
    public var epochs = 3
    /// Weight of the token loss (1/100 in the dual loss, 1 for token-only tuning).
    public var crossEntropyWeight: Float = 0.01
    public var routing: GradientRouting = .asRun
    public var maxGradientNorm: Float?
    /// Early stopping: mean of the last `window` validation losses; stop after `patience` steps without a new best,
    /// never before `minimumSteps`.
    public var window = 20
    public var patience = 10
    public var minimumSteps = 80

    public init(trainableBlocks: Range<Int>) { self.trainableBlocks = trainableBlocks }
}

/// Early stopping on a moving mean of validation losses (METHOD.md §5): the mean of the last `window` losses,
/// the best such mean so far and the steps since it improved.
public struct EarlyStoppingState: Sendable, Codable, Equatable {
    /// The best moving mean so far (infinity before the first validation).
    public var best = Double.infinity
    /// Validations since `best` last improved.
    public var sinceBest = 0
    /// The last `window` validation losses, oldest first.
    public var recent: [Double] = []
    /// Set once early stopping has fired.
    public var stopped = false

    public init() {}

    /// Adds one validation loss.
    public mutating func record(_ loss: Double, window: Int) {
        recent.append(loss)
        if recent.count > window { recent.removeFirst(recent.count - window) }
        let mean = recent.reduce(0, +) / Double(recent.count)
        if mean < best { best = mean; sinceBest = 0 } else { sinceBest += 1 }
    }
}

/// One step's record.
public struct TuningStepRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var trainLoss: Double
    public var validationLoss: Double?
    public var learningRateScale: Float
    public var gradientNorm: Double
}

/// Fine-tunes the blocks of a model with `lossAndGradients` and AdamW (V/O and the rest in two groups), with a
/// linear warm-up/decay schedule and early stopping on a moving mean of validation losses. The base model's
/// weights are never touched: the trainable blocks are copied.
public struct RepresentationTuner: Sendable {
    public private(set) var model: LlamaModel
    public let settings: TuningSettings
    var optimizer: AdamW
    private let gradients: [Int: BlockGradients]
    /// One record per step taken; its count is the index of the next batch (the cursor a checkpoint keeps).
    public internal(set) var history: [TuningStepRecord] = []
    /// The early-stopping bookkeeping (moving mean of validation losses, best so far, steps since).
    public internal(set) var stopping = EarlyStoppingState()

    /// A tuner holding its trainable blocks' fp32 weights, gradients and AdamW moments in memory: 16 bytes a
    /// trainable weight.
    public init(base: LlamaModel, settings: TuningSettings) {
        self.init(base: base, settings: settings) { FloatBuffer(count: $0) }
    }

    /// A tuner whose gradients and AdamW moments (12 of its 16 bytes a trainable weight) live in files in
    /// `directory`, paged by the kernel, for models whose state does not fit in memory (a 13B model's 7 trainable
    /// blocks hold 2.2 billion weights: 27 GB of state). The arithmetic is the same, so are the results, to the bit.
    public init(base: LlamaModel, settings: TuningSettings, stateDirectory directory: URL) throws {
        try self.init(base: base, settings: settings) { try FloatBuffer(count: $0, onDiskIn: directory) }
    }

    init(base: LlamaModel, settings: TuningSettings, allocate: (Int) throws -> FloatBuffer) rethrows {
        var model = base
        for l in settings.trainableBlocks { model.weights.blocks[l] = base.weights.blocks[l].copy() }
        self.model = model
        self.settings = settings
        var gradients = [Int: BlockGradients]()
        for l in settings.trainableBlocks { gradients[l] = try BlockGradients(zerosLike: model.weights.blocks[l], allocate: allocate) }
        self.gradients = gradients
        var opt = AdamW(groups: [
            .init(learningRate: settings.attentionLearningRate, weightDecay: settings.weightDecay, epsilon: settings.epsilon),
            .init(learningRate: settings.otherLearningRate, weightDecay: settings.weightDecay, epsilon: settings.epsilon),
        ], maxGradientNorm: settings.maxGradientNorm)
        let c = model.config
        let d = c.embeddingLength, vStart = (c.queryWidth + c.keyValueWidth) * d, vEnd = (c.queryWidth + 2 * c.keyValueWidth) * d
        for l in settings.trainableBlocks {
            let w = model.weights.blocks[l], g = gradients[l]!
            try opt.add(weights: w.qkv.values!, gradient: g.qkv.values!, range: 0..<vStart, group: 1, allocate: allocate)
            try opt.add(weights: w.qkv.values!, gradient: g.qkv.values!, range: vStart..<vEnd, group: 0, allocate: allocate)
            try opt.add(weights: w.attentionOutput.values!, gradient: g.attentionOutput.values!, group: 0, allocate: allocate)
            for (wb, gb) in [(w.attentionNorm, g.attentionNorm), (w.ffnNorm, g.ffnNorm), (w.gateUp.values!, g.gateUp.values!),
                             (w.down.values!, g.down.values!)] {
                try opt.add(weights: wb, gradient: gb, group: 1, allocate: allocate)
            }
            if let b = w.qkvBias, let gbias = g.qkvBias { try opt.add(weights: b, gradient: gbias, group: 1, allocate: allocate) }
        }
        optimizer = opt
    }

    /// One optimisation step on `batch`; `schedule` gives the learning-rate factor.
    public mutating func step(_ batch: [TrainingSequence], schedule: LinearWarmupDecay) -> (LossReport, Double) {
        for g in gradients.values { g.zero() }
        let report = model.lossAndGradients(batch, crossEntropyWeight: settings.crossEntropyWeight,
                                            trainable: settings.trainableBlocks, routing: settings.routing, into: gradients)
        let scale = schedule.factor(step: optimizer.step)
        let norm = optimizer.update(learningRateScale: scale)
        return (report, norm)
    }

    /// The loss of `batch` without updating anything.
    public func loss(_ batch: [TrainingSequence]) -> Double {
        model.loss(batch, crossEntropyWeight: settings.crossEntropyWeight, trainable: settings.trainableBlocks).loss
    }

    /// Trains on `batches` (already composed, in order, for every epoch), validating on `validation[k % count]`
    /// after each step, until the batches run out or early stopping fires. `progress` sees every record.
    /// Continues where a restored checkpoint left off (`history.count` steps are already done).
    public mutating func train(batches: [[TrainingSequence]], validation: [[TrainingSequence]],
                               progress: (TuningStepRecord, Int) -> Void = { _, _ in }) {
        while let record = trainStep(batches: batches, validation: validation) { progress(record, batches.count) }
    }

    /// Whether training on `batchCount` batches is over: every batch used, or early stopping fired.
    public func isFinished(batchCount: Int) -> Bool { stopping.stopped || history.count >= batchCount }

    /// Takes the next step of `train(batches:validation:)` (batch `history.count`) and returns its record, or nil
    /// when training is over. The schedule spans `batches.count` steps.
    public mutating func trainStep(batches: [[TrainingSequence]], validation: [[TrainingSequence]]) -> TuningStepRecord? {
        guard !isFinished(batchCount: batches.count) else { return nil }
        let k = history.count
        let schedule = LinearWarmupDecay(warmupSteps: settings.warmupSteps, totalSteps: batches.count)
        let scale = schedule.factor(step: optimizer.step)
        let (report, norm) = step(batches[k], schedule: schedule)
        var validationLoss: Double?
        if !validation.isEmpty {
            let v = loss(validation[k % validation.count])
            validationLoss = v
            stopping.record(v, window: settings.window)
        }
        let record = TuningStepRecord(step: k + 1, trainLoss: report.loss, validationLoss: validationLoss,
                                      learningRateScale: scale, gradientNorm: norm)
        history.append(record)
        if k + 1 >= settings.minimumSteps && stopping.sinceBest >= settings.patience { stopping.stopped = true }
        return record
    }

    /// The tuned tensors: GGUF name, GGUF shape (contiguous dimension first) and values in `[out × in]` order.
    public var changedTensors: [(name: String, shape: [Int], values: [Float])] {
        let c = model.config
        return settings.trainableBlocks.flatMap { l in
            BlockTensor.present(c).map { t in
                ("blk.\(l).\(t.ggufName)", Array(t.shape(c).reversed()), model.weights.blocks[l].values(of: t, config: c)!)
            }
        }
    }

    /// Writes the tuned tensors as an F32 GGUF that `LlamaModel.applying(variant:)` loads onto the base model.
    public func writeVariant(to url: URL, baseSHA256: String?) throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("reptune-variant"))
        if let sha = baseSHA256 { w.set("reptune.base_sha256", .string(sha)) }
        w.set("reptune.trainable_blocks", .array(settings.trainableBlocks.map { .int32(Int32($0)) }))
        // Written from the trainable blocks' buffers (no copy).
        let c = model.config
        for l in settings.trainableBlocks {
            for t in BlockTensor.present(c) {
                let (buffer, offset) = t.storage(in: model.weights.blocks[l], c)!
                try w.addTensor(name: "blk.\(l).\(t.ggufName)", shape: Array(t.shape(c).reversed()),
                                borrowing: UnsafeBufferPointer(start: buffer.pointer + offset, count: t.shape(c).reduce(1, *)))
            }
        }
        try w.write(to: url)
    }
}

extension LlamaModel {
    /// This model with the tensors of a variant GGUF (as written by `RepresentationTuner.writeVariant`) swapped in.
    public func applying(variant file: GGUFFile) throws -> LlamaModel {
        var m = self
        let c = config
        var touched = Set<Int>()
        for t in file.tensors {
            let parts = t.name.split(separator: ".", maxSplits: 2)
            guard parts.count == 3, parts[0] == "blk", let l = Int(parts[1]), (0..<c.blockCount).contains(l) else {
                throw ModelLoadError(file: file.url.path, "tensor \(t.name): expected blk.<block>.<name> of a block of this model")
            }
            if !touched.contains(l) {
                m.weights.blocks[l] = weights.blocks[l].copy()
                touched.insert(l)
            }
            guard let tensor = BlockTensor(rawValue: String(parts[2])),
                  let (buffer, offset) = tensor.storage(in: m.weights.blocks[l], c) else {
                throw ModelLoadError(file: file.url.path, "tensor \(t.name): not a tensor of this model's blocks")
            }
            let count = tensor.shape(c).reduce(1, *)
            guard t.elementCount == count else {
                throw ModelLoadError(file: file.url.path, "tensor \(t.name): expected \(count) values, found \(t.elementCount)")
            }
            try file.dequantize(t, into: UnsafeMutableBufferPointer(start: buffer.pointer + offset, count: count))
        }
        return m
    }
}
