import Dispatch
import Foundation
import ModelFormats

/// A Llama-family decoder (Llama 2/3, SmolLM2, Mistral, Qwen2) on the CPU: fp32 activations, weights in fp32 or
/// in the model file's own encoding (`WeightsPolicy`).
///
/// A batch of sequences of different lengths runs as one ragged `[tokens × d]` activation matrix: every
/// projection is one sgemm over all tokens of all sequences (no padding), attention runs per sequence and head
/// over that sequence's KV cache with a causal mask. Interventions are data attached to each sequence.
public struct LlamaModel: Sendable {
    public let config: ModelConfig
    public var weights: LlamaWeights
    let rope: RoPEKernel

    public init(config: ModelConfig, weights: LlamaWeights) {
        self.config = config
        self.weights = weights
        rope = RoPEKernel(headDimension: config.headDimension, theta: config.ropeTheta,
                          layout: config.ropeLayout == .interleaved ? .interleaved : .halfSplit)
    }

    /// An empty KV cache for one sequence.
    public func makeCache(reserve: Int = 0) -> KVCache {
        KVCache(blocks: config.blockCount, width: config.keyValueWidth, reserve: reserve)
    }

    /// Runs blocks `blocks` over every item's new tokens, appending to their caches:
    ///
    ///     x₀ = Embed(tokens)                                  (or the residual of an earlier pass)
    ///     for block l:  h = x + Attention_l(x);  x = h + MLP_l(h);  hooks at .block(l)
    ///     logits = Head · RMSNorm(x)                          (on the rows `ForwardItem.logits` asks for)
    ///
    /// Every matrix is the ragged `[T × ·]` of all items' new tokens (`RaggedBatch`); the sub-blocks are
    /// `attentionForward` and `mlpForward`, each with its backward beside it.
    ///
    /// - Parameters:
    ///   - blocks: the blocks to run. Starting after 0 needs `residual`: the output of block `lowerBound − 1` for
    ///     every new token of every item (concatenated), as returned by an earlier pass that stopped there; the
    ///     items' caches must already hold those tokens for the blocks below. Interventions at
    ///     `.block(lowerBound − 1)` are applied to it first (so a shared prefix pass carries no steering, and each
    ///     resumed pass applies its own). Stopping before the last block returns the residual (after the
    ///     interventions of the range's last block) and no logits, and does not advance the caches' `count`.
    ///   - finish: false stops after the range even when it ends at the last block (residual returned, no final
    ///     norm, no logits, caches not advanced), so a later pass can resume from the last block's output.
    ///   - tape: when given, the activations of the blocks in `tape.blocks` are recorded for a backward pass
    ///     (sequences must start from empty caches).
    public func forward(_ items: inout [ForwardItem], blocks: Range<Int>? = nil, residual: [Float]? = nil,
                        finish: Bool = true, tape: ActivationTape? = nil) -> [ForwardOutput]
    {
        let cfg = config, d = cfg.embeddingLength
        let range = blocks ?? 0..<cfg.blockCount
        precondition(range.lowerBound >= 0 && range.upperBound <= cfg.blockCount)
        let batch = RaggedBatch(items, rope: rope, headDimension: cfg.headDimension)
        let T = batch.total
        var captures = Array(repeating: [Capture](), count: items.count)
        guard T > 0 else {
            return items.map { _ in ForwardOutput(logitPositions: [], logits: [], vocabularySize: cfg.vocabularySize,
                                                  captures: [], residual: nil) }
        }

        var a = BlockActivations(rows: T, config: cfg)
        if range.lowerBound == 0 {
            embed(items, batch, into: a.x)
            applyInterventions(at: .embeddings, items: items, batch, x: a.x.pointer, captures: &captures)
        } else {
            guard let residual, residual.count == T * d else {
                preconditionFailure("forward from block \(range.lowerBound) needs the residual of every new token")
            }
            residual.withUnsafeBufferPointer { a.x.pointer.update(from: $0.baseAddress!, count: T * d) }
            applyInterventions(at: .block(range.lowerBound - 1), items: items, batch, x: a.x.pointer, captures: &captures)
        }
        for l in range {
            attentionForward(block: l, a, batch, items: &items)
            mlpForward(block: l, a, rows: T)
            tape?.record(a, block: l)
            a.advance()
            applyInterventions(at: .block(l), items: items, batch, x: a.x.pointer, captures: &captures)
        }
        tape?.finish(batch, blocksRun: range, output: a.x)

        guard finish && range.upperBound == cfg.blockCount else {
            return items.indices.map { i in
                ForwardOutput(logitPositions: [], logits: [], vocabularySize: cfg.vocabularySize, captures: captures[i],
                              residual: a.x.slice(batch.rowStart[i] * d, batch.lengths[i] * d))
            }
        }

        // Final norm and output head on the rows that need logits; all rows are normed when a hook reads them.
        var headRows = [Int](), positions = Array(repeating: [Int](), count: items.count)
        for (i, item) in items.enumerated() {
            let n = batch.lengths[i]
            let local: Range<Int> = switch item.logits {
            case .none: 0..<0
            case .last: (n - 1)..<n
            case .all: 0..<n
            case .from(let k): min(max(k, 0), n)..<n
            }
            for t in local {
                headRows.append(batch.rowStart[i] + t)
                positions[i].append(batch.bases[i] + t)
            }
        }
        let hooksReadFinalNorm = items.contains { $0.interventions.contains { $0.site == .finalNorm } }
        if hooksReadFinalNorm {
            RMSNormKernel.apply(a.x.pointer, rows: T, width: d, weight: weights.outputNorm.pointer, epsilon: cfg.rmsEpsilon,
                                into: a.x.pointer)
            applyInterventions(at: .finalNorm, items: items, batch, x: a.x.pointer, captures: &captures)
        }
        let logits = headForward(a.x.pointer, rows: headRows, normalized: hooksReadFinalNorm).logits
        for i in items.indices { items[i].cache.advance(by: batch.lengths[i]) }
        let vocab = cfg.vocabularySize
        var outputs = [ForwardOutput](), k = 0
        for i in items.indices {
            let m = positions[i].count
            outputs.append(ForwardOutput(logitPositions: positions[i], logits: logits.slice(k * vocab, m * vocab),
                                         vocabularySize: vocab, captures: captures[i], residual: nil))
            k += m
        }
        return outputs
    }

    /// Applies every item's interventions at `site` to its rows of `x` (`[tokens × d]`).
    private func applyInterventions(at site: ResidualSite, items: [ForwardItem], _ batch: RaggedBatch,
                                    x: UnsafeMutablePointer<Float>, captures: inout [[Capture]]) {
        let d = config.embeddingLength, bases = batch.bases, rowStart = batch.rowStart
        for (i, item) in items.enumerated() where !item.interventions.isEmpty {
            let n = item.tokens.count, length = bases[i] + n
            let promptLength = item.promptLength ?? length
            for intervention in item.interventions where intervention.site == site {
                var positions = [Int](), rows = [Float]()
                for t in 0..<n {
                    let position = bases[i] + t
                    guard intervention.positions.contains(position, promptLength: promptLength, length: length) else {
                        continue
                    }
                    let row = x + (rowStart[i] + t) * d
                    switch intervention.operation {
                    case .capture:
                        positions.append(position)
                        rows.append(contentsOf: UnsafeBufferPointer(start: row, count: d))
                    case .add(let vector, let multiplier):
                        vector.withUnsafeBufferPointer {
                            ActivationKernels.addScaled($0.baseAddress!, scale: multiplier, into: row, count: d)
                        }
                    case .addRows(let values):
                        if (position + 1) * d <= values.count {
                            values.withUnsafeBufferPointer {
                                ActivationKernels.addScaled($0.baseAddress! + position * d, scale: 1, into: row, count: d)
                            }
                        }
                    case .projectOut(let direction):
                        direction.withUnsafeBufferPointer {
                            let p = ActivationKernels.dot(row, $0.baseAddress!, count: d)
                            ActivationKernels.addScaled($0.baseAddress!, scale: -p, into: row, count: d)
                        }
                    }
                }
                if case .capture = intervention.operation {
                    captures[i].append(Capture(site: site, positions: positions, width: d, values: rows))
                }
            }
        }
    }
}
