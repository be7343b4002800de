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
    /// The policy the model was loaded under (`fp32` or `native`), for the figures' names.
    public var policy: WeightsPolicy
    public var promptLength = 64
    public var prefillBatches = [1, 8, 32]
    public var decodeBatches = [1, 16]
    public var decodeSteps = 32
    public var repeats = 3
    /// Blocks the training step trains, from block 11 (the paper preset is 7: blocks 11–17); fewer for small models.
    public var trainedBlocks = 7

    public init(model: LlamaModel, policy: WeightsPolicy? = nil) {
        self.model = model
        self.policy = policy ?? (model.weights.blocks.first?.qkv.isNative == true ? .native : .fp32)
    }

    /// Bytes of weights one decode step of one sequence reads: every projection in the form a one-row product reads
    /// it (the file's blocks for native weights and for the fp32 policy's q4_1/q8_0 decode kernel, fp32 values
    /// otherwise), the head, and one embedding row.
    public var decodeBytesPerToken: Int {
        func bytes(_ p: ProjectionWeight) -> Int {
            if p.isNative || (p.encoded != nil && CPUFeatures.hasAVX2) { return p.encodedBytes }
            return p.fp32Bytes
        }
        let w = model.weights
        let blocks = w.blocks.reduce(0) { $0 + $1.projections.reduce(0) { $0 + bytes($1) } + 4 * ($1.attentionNorm.count + $1.ffnNorm.count) }
        return blocks + bytes(w.head) + bytes(w.tokenEmbedding) / max(1, w.tokenEmbedding.rows)
    }

    /// Read bandwidth in GB/s: the cores summing a buffer of `bytes` (the bytes a decode step reads, so that caches
    /// hold as much of it as they hold of the weights), best of `repeats` passes after one to warm up.
    public func memoryBandwidth(bytes: Int) -> Double {
        let count = max(1 << 20, bytes / 4) / 64 * 64
        let buffer = FloatBuffer(count: count)
        for i in stride(from: 0, to: count, by: 1024) { buffer[i] = 1 }
        let parts = ParallelLoop.cores
        let sums = FloatBuffer(count: parts)
        func pass() {
            ParallelLoop.run(parts) { p in
                let lo = count * p / parts / 64 * 64, hi = p == parts - 1 ? count : count * (p + 1) / parts / 64 * 64
                var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                let base = UnsafeRawPointer(buffer.pointer)
                var i = lo
                while i < hi {
                    a0 += base.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                    a1 += base.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self)
                    a2 += base.loadUnaligned(fromByteOffset: 4 * i + 128, as: SIMD16<Float>.self)
                    a3 += base.loadUnaligned(fromByteOffset: 4 * i + 192, as: SIMD16<Float>.self)
                    i += 64
                }
                sums[p] = (a0 + a1 + a2 + a3).sum()
            }
        }
        pass()
        let seconds = time(pass)
        return Double(count * 4) / seconds / 1e9
    }

    /// Seconds of one product of the model's largest block projection (`gate/up` of the middle block) with `rows`
    /// activation rows through each native path: the numbers `NativeMatMul.dotRowLimit` is chosen from.
    public func nativePathSeconds(rows: Int) -> (dot: Double, panels: Double)? {
        let w = model.weights.blocks[model.config.blockCount / 2].gateUp
        guard let m = w.encoded, w.isNative, CPUFeatures.hasAVX2 else { return nil }
        var g = SeededGenerator(seed: 11)
        let x = FloatBuffer((0..<rows * m.columns).map { _ in g.nextUnit() - 0.5 })
        let y = FloatBuffer(count: rows * m.rows)
        let reps = max(1, 64 / rows)
        func run(_ path: NativeMatMul.Path) -> Double {
            time { for _ in 0..<reps { NativeMatMul.projection(x.pointer, rows: rows, weight: m, into: y.pointer, path: path) } } / Double(reps)
        }
        return (run(.dot), run(.panels))
    }

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

    /// One representation-tuning step: batch 4 × 64 tokens, `trainedBlocks` blocks from block 11 trainable (the
    /// paper preset is 11–17; scaled down for models with fewer than 18 blocks), CE on the last token + cosine at
    /// every trainable block, AdamW update. On native weights the trained blocks are fp32 copies and the frozen ones
    /// stay native.
    /// Returns (seconds, FLOPs of the projections in the forward and backward passes).
    public func trainingStep(batch: Int = 4, tokens: Int = 64) -> (seconds: Double, flops: Double) {
        let c = model.config
        let trainable = trainedRange
        let lo = trainable.lowerBound
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

    /// `trainedBlocks` blocks from 11, or the same share of a model with fewer than 18 blocks.
    public var trainedRange: Range<Int> {
        let count = model.config.blockCount
        if count >= 11 + trainedBlocks { return 11..<(11 + trainedBlocks) }
        let lo = count * 11 / 40
        return lo..<max(lo + 1, min(count, lo + trainedBlocks * count / 40))
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
        let perToken = decodeBytesPerToken
        var bandwidth = memoryBandwidth(bytes: perToken)
        var decode = [(Int, Double)]()
        for b in decodeBatches {
            decode.append((b, decodeTokensPerSecond(batch: b)))
            bandwidth = max(bandwidth, memoryBandwidth(bytes: perToken))
        }
        record(Figure(name: "read bandwidth", value: bandwidth, unit: "GB/s",
                      note: String(format: "%d threads summing %.0f MiB (the weights a decode step reads), best of %d",
                                   ParallelLoop.cores, Double(perToken) / 1_048_576, decodeBatches.count + 1)))
        let bandwidthLimit = bandwidth * 1e9 / Double(perToken)
        for (b, tps) in decode {
            let gemm = sgemmGFLOPS(tokens: b)
            let share = b == 1 ? String(format: "%.0f%% of the bandwidth limit (%.0f tokens/s); ", 100 * tps / bandwidthLimit, bandwidthLimit) : ""
            record(Figure(name: "decode \(b) sequence\(b == 1 ? "" : "s")", value: tps, unit: "tokens/s",
                          note: share + String(format: "summed over sequences, %d steps after a %d-token prompt; sgemm at %d rows: %.1f GFLOP/s",
                                               decodeSteps, promptLength, b, gemm)))
        }
        for rows in [1, 4, 8, 16, 32, 64] {
            guard let (dot, panels) = nativePathSeconds(rows: rows) else { break }
            record(Figure(name: "dot/panels \(rows) rows", value: dot / panels, unit: "× time",
                          note: String(format: "gate/up of block %d: dot %.3f ms, panels %.3f ms (dot path up to %d rows)",
                                       model.config.blockCount / 2, dot * 1000, panels * 1000, NativeMatMul.dotRowLimit)))
        }
        let step = trainingStep()
        let stepRate = step.flops / step.seconds / 1e9, atStepShape = sgemmGFLOPS(tokens: 4 * promptLength)
        record(Figure(name: "training step 4×64", value: step.seconds * 1000, unit: "ms",
                      note: String(format: "blocks %d–%d trainable, dual loss, AdamW; %.1f GFLOP/s = %.0f%% of the sgemm peak, %.0f%% of sgemm at %d rows",
                                   trainedRange.lowerBound, trainedRange.upperBound - 1,
                                   stepRate, 100 * stepRate / peak, 100 * stepRate / atStepShape, 4 * promptLength)))
        record(Figure(name: "peak resident memory", value: Double(ProcessMemory.peakResidentBytes) / 1_048_576,
                      unit: "MiB", note: "whole process, after every measurement"))
        return figures
    }
}
