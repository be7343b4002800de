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

    /// Runs blocks `blocks` over every item's new tokens, appending to their caches.
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
        let cfg = config
        let range = blocks ?? 0..<cfg.blockCount
        precondition(range.lowerBound >= 0 && range.upperBound <= cfg.blockCount)
        let d = cfg.embeddingLength, qW = cfg.queryWidth, kvW = cfg.keyValueWidth
        let qkvW = qW + 2 * kvW, ff = cfg.feedForwardLength, hd = cfg.headDimension
        let nHead = cfg.headCount, group = cfg.headCount / cfg.headCountKV

        var rowStart = [Int](), total = 0
        for item in items { rowStart.append(total); total += item.tokens.count }
        let bases = items.map { $0.cache.count }
        var captures = Array(repeating: [Capture](), count: items.count)
        guard total > 0 else {
            return items.map { _ in ForwardOutput(logitPositions: [], logits: [], vocabularySize: cfg.vocabularySize,
                                                  captures: [], residual: nil) }
        }

        let x = FloatBuffer(count: total * d)
        let xn = FloatBuffer(count: total * d)
        let qkv = FloatBuffer(count: total * qkvW)
        let attn = FloatBuffer(count: total * qW)
        let gateUp = FloatBuffer(count: total * 2 * ff)
        let hidden = FloatBuffer(count: total * ff)
        // RoPE angles of every new token, computed once for all blocks.
        let half = hd / 2
        let cosines = FloatBuffer(count: total * half), sines = FloatBuffer(count: total * half)
        for (i, item) in items.enumerated() {
            for t in 0..<item.tokens.count {
                let r = rowStart[i] + t
                rope.angles(position: bases[i] + t, cos: cosines.pointer + r * half, sin: sines.pointer + r * half)
            }
        }

        if range.lowerBound == 0 {
            for (i, item) in items.enumerated() {
                for (t, token) in item.tokens.enumerated() {
                    weights.tokenEmbedding.row(token, into: x.pointer + (rowStart[i] + t) * d)
                }
            }
            applyInterventions(at: .embeddings, items: items, bases: bases, rowStart: rowStart, x: x.pointer,
                               captures: &captures)
        } else {
            guard let residual, residual.count == total * d else {
                preconditionFailure("forward from block \(range.lowerBound) needs the residual of every new token")
            }
            residual.withUnsafeBufferPointer { x.pointer.update(from: $0.baseAddress!, count: total * d) }
            applyInterventions(at: .block(range.lowerBound - 1), items: items, bases: bases, rowStart: rowStart,
                               x: x.pointer, captures: &captures)
        }

        let scale = 1 / Float(hd).squareRoot()
        if let tape {
            tape.rowStart = rowStart
            tape.lengths = items.map(\.tokens.count)
        }
        for l in range {
            let w = weights.blocks[l]
            let recording = tape.map { $0.blocks.contains(l) } ?? false
            if recording { tape!.blockInput[l] = ActivationTape.copy(x.pointer, total * d) }
            // Attention.
            RMSNormKernel.apply(x.pointer, rows: total, width: d, weight: w.attentionNorm.pointer,
                                epsilon: cfg.rmsEpsilon, into: xn.pointer)
            w.qkv.project(xn.pointer, rows: total, into: qkv.pointer)
            if let bias = w.qkvBias {
                for r in 0..<total { ActivationKernels.add(bias.pointer, into: qkv.pointer + r * qkvW, count: qkvW) }
            }
            for r in 0..<total {
                let row = qkv.pointer + r * qkvW, c = cosines.pointer + r * half, s = sines.pointer + r * half
                rope.apply(row, heads: nHead, cos: c, sin: s)
                rope.apply(row + qW, heads: cfg.headCountKV, cos: c, sin: s)
            }
            // By index: a copy of the item would share its cache's storage, and the append would copy the block's
            // whole cache on every step.
            for i in items.indices {
                let start = qkv.pointer + rowStart[i] * qkvW
                items[i].cache.append(block: l, keys: start + qW, values: start + qW + kvW, rows: items[i].tokens.count,
                                      ld: qkvW)
            }
            if recording { tape!.qkv[l] = ActivationTape.copy(qkv.pointer, total * qkvW) }
            // Attention per sequence. Decode steps and short prompts split the sequences over the cores (each
            // one's attention is small); long prompts go one by one through sgemm.
            let caches = items.map { ($0.cache.keys[l], $0.cache.values[l]) }
            let direct = items.allSatisfy { $0.tokens.count <= AttentionKernel.directThreshold }
            let parts = direct && items.count > 1 ? min(ParallelLoop.cores, items.count) : 1
            let qkvBase = qkv.pointer, attnBase = attn.pointer
            ParallelLoop.run(parts) { part in
                for i in (items.count * part / parts)..<(items.count * (part + 1) / parts) {
                    let n = items[i].tokens.count, context = bases[i] + n
                    caches[i].0.withUnsafeBufferPointer { kBuf in
                        caches[i].1.withUnsafeBufferPointer { vBuf in
                            AttentionKernel.causal(queries: qkvBase + rowStart[i] * qkvW, ldq: qkvW, keys: kBuf.baseAddress!,
                                                   values: vBuf.baseAddress!, ldkv: kvW, output: attnBase + rowStart[i] * qW,
                                                   ldo: qW, newTokens: n, context: context, heads: nHead, group: group,
                                                   headDimension: hd, scale: scale)
                        }
                    }
                }
            }
            w.attentionOutput.project(attn.pointer, rows: total, into: x.pointer, accumulate: true)
            if recording {
                tape!.attention[l] = ActivationTape.copy(attn.pointer, total * qW)
                tape!.midResidual[l] = ActivationTape.copy(x.pointer, total * d)
            }
            // MLP.
            RMSNormKernel.apply(x.pointer, rows: total, width: d, weight: w.ffnNorm.pointer, epsilon: cfg.rmsEpsilon,
                                into: xn.pointer)
            w.gateUp.project(xn.pointer, rows: total, into: gateUp.pointer)
            let gateUpBase = gateUp.pointer, hiddenBase = hidden.pointer
            ParallelLoop.rows(total, grain: 16) { rows in
                for r in rows {
                    let g = gateUpBase + r * 2 * ff
                    ActivationKernels.siluGate(g, g + ff, into: hiddenBase + r * ff, count: ff)
                }
            }
            if recording {
                tape!.gateUp[l] = ActivationTape.copy(gateUp.pointer, total * 2 * ff)
                tape!.hidden[l] = ActivationTape.copy(hidden.pointer, total * ff)
            }
            w.down.project(hidden.pointer, rows: total, into: x.pointer, accumulate: true)
            applyInterventions(at: .block(l), items: items, bases: bases, rowStart: rowStart, x: x.pointer,
                               captures: &captures)
        }

        if let tape, tape.blocks.upperBound == range.upperBound { tape.output = x.array }
        guard finish && range.upperBound == cfg.blockCount else {
            let residual = x.array
            return items.indices.map { i in
                ForwardOutput(logitPositions: [], logits: [], vocabularySize: cfg.vocabularySize,
                              captures: captures[i],
                              residual: Array(residual[rowStart[i] * d..<(rowStart[i] + items[i].tokens.count) * d]))
            }
        }

        // Final norm and output head on the rows that need them.
        let wantsFinalCapture = items.contains { $0.interventions.contains { $0.site == .finalNorm } }
        var headRows = [Int](), positionsPerItem = Array(repeating: [Int](), count: items.count)
        for (i, item) in items.enumerated() {
            let n = item.tokens.count
            let local: Range<Int> = switch item.logits {
            case .none: 0..<0
            case .last: (n - 1)..<n
            case .all: 0..<n
            case .from(let k): min(max(k, 0), n)..<n
            }
            for t in local {
                headRows.append(rowStart[i] + t)
                positionsPerItem[i].append(bases[i] + t)
            }
        }
        if wantsFinalCapture {
            RMSNormKernel.apply(x.pointer, rows: total, width: d, weight: weights.outputNorm.pointer,
                                epsilon: cfg.rmsEpsilon, into: x.pointer)
            applyInterventions(at: .finalNorm, items: items, bases: bases, rowStart: rowStart, x: x.pointer,
                               captures: &captures)
        }
        let normed = FloatBuffer(count: max(headRows.count, 1) * d)
        for (k, r) in headRows.enumerated() {
            if wantsFinalCapture {
                (normed.pointer + k * d).update(from: x.pointer + r * d, count: d)
            } else {
                RMSNormKernel.apply(x.pointer + r * d, rows: 1, width: d, weight: weights.outputNorm.pointer,
                                    epsilon: cfg.rmsEpsilon, into: normed.pointer + k * d)
            }
        }
        let vocab = cfg.vocabularySize
        let logits = FloatBuffer(count: max(headRows.count, 1) * vocab)
        if !headRows.isEmpty {
            weights.head.project(normed.pointer, rows: headRows.count, into: logits.pointer, precise: true)
        }
        for i in items.indices { items[i].cache.advance(by: items[i].tokens.count) }
        var outputs = [ForwardOutput]()
        var k = 0
        for i in items.indices {
            let m = positionsPerItem[i].count
            outputs.append(ForwardOutput(logitPositions: positionsPerItem[i], logits: logits.slice(k * vocab, m * vocab),
                                         vocabularySize: vocab, captures: captures[i], residual: nil))
            k += m
        }
        return outputs
    }

    /// Applies every item's interventions at `site` to its rows of `x` (`[tokens × d]`).
    private func applyInterventions(at site: ResidualSite, items: [ForwardItem], bases: [Int], rowStart: [Int],
                                    x: UnsafeMutablePointer<Float>, captures: inout [[Capture]]) {
        let d = config.embeddingLength
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
