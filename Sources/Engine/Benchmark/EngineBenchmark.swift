import Foundation

/// Measures the engine's prefill and decode speed on a model next to the machine's own `cblas_sgemm` peak at the
/// model's shapes, measured in the same run, so figures are comparable across noisy shared machines as ratios.
public struct EngineBenchmark: Sendable {
    /// One measured figure.
    public struct Figure: Sendable, Codable, Equatable {
        public var name: String
        public var value: Double
        public var unit: String
        public var note: String

        public init(name: String, value: Double, unit: String, note: String) {
            self.name = name
            self.value = value
            self.unit = unit
            self.note = note
        }
    }

    public var model: LlamaModel
    public var promptLength = 64
    public var prefillBatches = [1, 8, 32]
    public var decodeBatches = [1, 16]
    public var decodeSteps = 32
    public var repeats = 3

    public init(model: LlamaModel) { self.model = model }

    /// Multiply-adds ×2 per token in the block projections (the sgemm part of a forward pass).
    public var projectionFlopsPerToken: Double {
        let c = model.config
        let d = Double(c.embeddingLength), q = Double(c.queryWidth), kv = Double(c.keyValueWidth)
        let ff = Double(c.feedForwardLength)
        return 2 * Double(c.blockCount) * (d * (q + 2 * kv) + q * d + 3 * d * ff)
    }

    /// Best-of-`repeats` wall time of `body`, in seconds.
    func time(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    /// `cblas_sgemm` GFLOP/s over the projection shapes of a `tokens`-row batch (same mix as one forward block).
    public func sgemmGFLOPS(tokens: Int) -> Double {
        let c = model.config
        let d = c.embeddingLength, qkv = c.queryWidth + 2 * c.keyValueWidth, ff = c.feedForwardLength
        let shapes = [(d, qkv), (c.queryWidth, d), (d, 2 * ff), (ff, d)]  // (in, out)
        let x = FloatBuffer(count: tokens * max(d, ff)), y = FloatBuffer(count: tokens * max(qkv, 2 * ff, d))
        for i in 0..<x.count { x[i] = Float(i % 7) * 0.01 }
        let weights = shapes.map { FloatBuffer(count: $0.0 * $0.1) }
        var flops = 0.0
        for s in shapes { flops += 2 * Double(tokens) * Double(s.0) * Double(s.1) }
        let reps = max(1, 2048 / tokens)
        let seconds = time {
            for _ in 0..<reps {
                for (s, w) in zip(shapes, weights) {
                    MatMul.projection(x.pointer, rows: tokens, inFeatures: s.0, weight: w.pointer, outFeatures: s.1,
                                      into: y.pointer)
                }
            }
        }
        return flops * Double(reps) / seconds / 1e9
    }

    func prompts(_ count: Int) -> [[Int]] {
        var g = SeededGenerator(seed: 7)
        return (0..<count).map { _ in (0..<promptLength).map { _ in Int(g.next() % UInt64(model.config.vocabularySize)) } }
    }

    /// Prefill tokens/s for a batch of `batch` prompts (logits of the last position only).
    public func prefillTokensPerSecond(batch: Int) -> Double {
        let prompts = prompts(batch)
        let seconds = time {
            var items = prompts.map { ForwardItem(tokens: $0, cache: model.makeCache()) }
            _ = model.forward(&items)
        }
        return Double(batch * promptLength) / seconds
    }

    /// Decode tokens/s summed over `batch` sequences, after a prompt of `promptLength` tokens.
    public func decodeTokensPerSecond(batch: Int) -> Double {
        var items = prompts(batch).map { ForwardItem(tokens: $0, cache: model.makeCache(reserve: promptLength + 4 * decodeSteps)) }
        _ = model.forward(&items)
        var totalSeconds = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            for step in 0..<decodeSteps {
                for i in items.indices { items[i].tokens = [(step * 31 + i) % model.config.vocabularySize] }
                _ = model.forward(&items)
            }
            totalSeconds = min(totalSeconds, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Double(batch * decodeSteps) / totalSeconds
    }

    /// One representation-tuning step as in issue 5: batch 4 × 64 tokens, blocks 11–17 trainable (the paper preset;
    /// scaled down for models with fewer than 18 blocks), CE on the last token + cosine at every trainable block,
    /// AdamW update.
    /// Returns (seconds, FLOPs of the projections in the forward and backward passes).
    public func trainingStep(batch: Int = 4, tokens: Int = 64) -> (seconds: Double, flops: Double) {
        let c = model.config
        let (lo, hi) = Self.tunedBlocks(c.blockCount)
        let trainable = lo..<hi
        var g = SeededGenerator(seed: 3)
        let vector = (0..<c.embeddingLength).map { _ in g.nextUnit() - 0.5 }
        let sequences = prompts(batch).map { p in
            TrainingSequence(tokens: Array(p.prefix(tokens)), tokenTargets: [.next(p[tokens - 1], at: tokens - 2)],
                             cosineTargets: trainable.map { CosineTarget(layer: $0, position: tokens - 8, vector: vector,
                                                                         weight: 1 / Float(trainable.count * batch)) })
        }
        // Train a copy of the blocks so the benchmark leaves the model untouched.
        var trainee = model
        for l in trainable { trainee.weights.blocks[l] = model.weights.blocks[l].copy() }
        let grads = Dictionary(uniqueKeysWithValues: trainable.map { ($0, BlockGradients(zerosLike: trainee.weights.blocks[$0])) })
        var optimizer = AdamW(groups: [.init(learningRate: 1e-6, weightDecay: 0.1, epsilon: 1e-4)])
        for l in trainable {
            for (w, gr) in zip(trainee.weights.blocks[l].buffers, grads[l]!.buffers) { optimizer.add(weights: w, gradient: gr, group: 0) }
        }
        let seconds = time {
            for l in trainable { grads[l]!.zero() }
            _ = trainee.lossAndGradients(sequences, crossEntropyWeight: 0.01, trainable: trainable, into: grads)
            optimizer.update()
        }
        // Forward through every block; backward data gradients from the top down to the lowest trainable block;
        // weight gradients for the trainable blocks (each ≈ the forward cost of its block).
        let perBlock = projectionFlopsPerToken / Double(c.blockCount) * Double(batch * tokens)
        let flops = perBlock * Double(c.blockCount + (c.blockCount - lo) + trainable.count)
        return (seconds, flops)
    }

    /// Blocks 11–17 (the paper preset), or the same share of a model with fewer than 18 blocks.
    static func tunedBlocks(_ count: Int) -> (Int, Int) {
        count >= 18 ? (11, 18) : (count * 11 / 40, max(count * 11 / 40 + 1, count * 18 / 40))
    }

    /// Runs every measurement; `progress` receives a line per figure as it is measured.
    public func run(progress: (Figure) -> Void = { _ in }) -> [Figure] {
        var figures = [Figure]()
        func record(_ f: Figure) {
            figures.append(f)
            progress(f)
        }
        // The peak is the best of measurements taken between the engine's, so that a burst of load from other
        // processes during one of them does not make the ratios exceed what the machine can do.
        let largest = prefillBatches.max() ?? 1
        var peak = sgemmGFLOPS(tokens: largest * promptLength)
        var prefill = [(Int, Double)]()
        for b in prefillBatches {
            prefill.append((b, prefillTokensPerSecond(batch: b)))
            peak = max(peak, sgemmGFLOPS(tokens: largest * promptLength))
        }
        record(Figure(name: "sgemm peak", value: peak, unit: "GFLOP/s",
                      note: "cblas_sgemm at the model's projection shapes, \(largest * promptLength) rows, best of \(prefillBatches.count + 1)"))
        let limit = peak * 1e9 / projectionFlopsPerToken
        record(Figure(name: "prefill sgemm-bound limit", value: limit, unit: "tokens/s",
                      note: String(format: "%.0f MFLOP/token in projections", projectionFlopsPerToken / 1e6)))
        for (b, tps) in prefill {
            let atShape = sgemmGFLOPS(tokens: b * promptLength) * 1e9 / projectionFlopsPerToken
            record(Figure(name: "prefill \(b)×\(promptLength)", value: tps, unit: "tokens/s",
                          note: String(format: "%.0f%% of the sgemm-bound limit; %.0f%% of sgemm at %d rows", 100 * tps / limit,
                                       100 * tps / atShape, b * promptLength)))
        }
        for b in decodeBatches {
            let tps = decodeTokensPerSecond(batch: b)
            let gemm = sgemmGFLOPS(tokens: b)
            record(Figure(name: "decode \(b) sequence\(b == 1 ? "" : "s")", value: tps, unit: "tokens/s",
                          note: String(format: "summed over sequences, %d steps after a %d-token prompt; sgemm at %d rows: %.1f GFLOP/s",
                                       decodeSteps, promptLength, b, gemm)))
        }
        let step = trainingStep()
        let stepRate = step.flops / step.seconds / 1e9, atStepShape = sgemmGFLOPS(tokens: 4 * promptLength)
        record(Figure(name: "training step 4×64", value: step.seconds * 1000, unit: "ms",
                      note: String(format: "blocks %d–%d trainable, dual loss, AdamW; %.1f GFLOP/s = %.0f%% of the sgemm peak, %.0f%% of sgemm at %d rows",
                                   Self.tunedBlocks(model.config.blockCount).0, Self.tunedBlocks(model.config.blockCount).1 - 1,
                                   stepRate, 100 * stepRate / peak, 100 * stepRate / atStepShape, 4 * promptLength)))
        record(Figure(name: "peak resident memory", value: Double(ProcessMemory.peakResidentBytes) / 1_048_576,
                      unit: "MiB", note: "whole process, after every measurement"))
        return figures
    }
}
