import Foundation
import ModelFormats

/// How fast this machine runs a model, for estimating a stage's time before anything is loaded: `cblas_sgemm`
/// GFLOP/s at the model's shapes and the cores' read bandwidth, measured in a few tenths of a second, scaled by the
/// share of them the engine reaches (measured by `reptune bench` on SmolLM2-135M and Qwen2.5-Coder-1.5B on 2-core
/// machines: `prefillShare`, `decodeShare`, `trainingShare`).
public struct MachineRates: Sendable, Codable {
    public var sgemmGFLOPS: Double
    public var bandwidthGBs: Double

    /// Prefill tokens/s ÷ the sgemm-bound limit (projections only).
    public static let prefillShare = 0.5
    /// Decode tokens/s ÷ the bandwidth limit (weight bytes per token).
    public static let decodeShare = 0.4
    /// Training-step FLOP/s ÷ sgemm FLOP/s.
    public static let trainingShare = 0.35

    public init(sgemmGFLOPS: Double, bandwidthGBs: Double) {
        self.sgemmGFLOPS = sgemmGFLOPS
        self.bandwidthGBs = bandwidthGBs
    }

    /// Measures both at `config`'s widths (capped at 4096 so a 13B model's shapes take no longer than a second).
    public static func measure(config c: ModelConfig, weightBytesPerToken: Int) -> MachineRates {
        let d = min(c.embeddingLength, 4096), ff = min(c.feedForwardLength, 4096), rows = 64
        let x = FloatBuffer(count: rows * max(d, ff)), w = FloatBuffer(count: d * ff), y = FloatBuffer(count: rows * max(d, ff))
        for i in stride(from: 0, to: w.count, by: 97) { w[i] = 0.01 }
        var best = Double.infinity
        for _ in 0..<2 {
            let start = DispatchTime.now().uptimeNanoseconds
            MatMul.projection(x.pointer, rows: rows, inFeatures: d, weight: w.pointer, outFeatures: ff, into: y.pointer)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let gflops = 2 * Double(rows * d * ff) / best / 1e9
        // Bandwidth over a buffer the size of what a decode step reads (L3 holds a small model's weights), ≤ 512 MiB.
        let bytes = min(max(weightBytesPerToken, 64 << 20), 256 << 20)
        var bench = EngineBenchmark(model: .random(config: .tiny, seed: 1))
        bench.repeats = 2
        return MachineRates(sgemmGFLOPS: gflops, bandwidthGBs: bench.memoryBandwidth(bytes: bytes))
    }

    /// Seconds to prefill `tokens` at `flopsPerToken`.
    public func prefillSeconds(tokens: Double, flopsPerToken: Double) -> Double {
        tokens * flopsPerToken / (sgemmGFLOPS * 1e9 * Self.prefillShare)
    }

    /// Seconds of `steps` decode steps of `batch` sequences: bound by reading the weights, or by the arithmetic of
    /// a large batch.
    public func decodeSeconds(steps: Double, batch: Int, bytesPerStep: Double, flopsPerToken: Double) -> Double {
        let memory = bytesPerStep / (bandwidthGBs * 1e9 * Self.decodeShare)
        let compute = Double(batch) * flopsPerToken / (sgemmGFLOPS * 1e9 * Self.prefillShare * 0.5)
        return steps * max(memory, compute)
    }

    /// Seconds of training steps totalling `flops`.
    public func trainingSeconds(flops: Double) -> Double { flops / (sgemmGFLOPS * 1e9 * Self.trainingShare) }
}

extension ModelConfig {
    /// A two-block model small enough for calibrations.
    static let tiny = ModelConfig(architecture: "llama", vocabularySize: 64, embeddingLength: 64, blockCount: 2,
                                  feedForwardLength: 128, headCount: 2, headCountKV: 2, contextLength: 64,
                                  rmsEpsilon: 1e-5, ropeTheta: 10000, ropeLayout: .interleaved, tiedEmbeddings: true,
                                  attentionBias: false)

    /// Multiply-adds ×2 per token in the block projections.
    public var projectionFlopsPerToken: Double {
        let d = Double(embeddingLength), q = Double(queryWidth), kv = Double(keyValueWidth), ff = Double(feedForwardLength)
        return 2 * Double(blockCount) * (d * (q + 2 * kv) + q * d + 3 * d * ff)
    }

    /// Weights per block (projections, norms, biases).
    public var weightsPerBlock: Int {
        let d = embeddingLength, q = queryWidth, kv = keyValueWidth, ff = feedForwardLength
        return d * (q + 2 * kv) + q * d + 3 * d * ff + 2 * d + (attentionBias ? q + 2 * kv : 0)
    }
}
