import Foundation
import ModelFormats

extension LlamaModel {
    /// The loss of a batch and its gradients for the weights of `trainable` blocks.
    ///
    /// loss = `crossEntropyWeight` · mean cross-entropy over every token target of the batch
    ///      + Σ cosine targets `weight · f(cos(h, v))`.
    /// Blocks below `trainable.lowerBound` run forward only; back-propagation stops there.
    ///
    /// - Parameter routing: which weights the cosine terms' gradient reaches (METHOD.md §5).
    public func lossAndGradients(_ batch: [TrainingSequence], crossEntropyWeight: Float, trainable: Range<Int>,
                                 routing: GradientRouting = .asRun, into gradients: [Int: BlockGradients]) -> LossReport {
        losses(batch, crossEntropyWeight: crossEntropyWeight, trainable: trainable, routing: routing, gradients: gradients)
    }

    /// The loss of a batch without any backward pass (a validation loss): the same forward pass and loss terms as
    /// `lossAndGradients`, so the value is the same to the bit.
    public func loss(_ batch: [TrainingSequence], crossEntropyWeight: Float, trainable: Range<Int>) -> LossReport {
        losses(batch, crossEntropyWeight: crossEntropyWeight, trainable: trainable, routing: .asRun, gradients: nil)
    }

    private func losses(_ batch: [TrainingSequence], crossEntropyWeight: Float, trainable: Range<Int>,
                        routing: GradientRouting, gradients: [Int: BlockGradients]?) -> LossReport {
        let cfg = config, d = cfg.embeddingLength, vocab = cfg.vocabularySize
        let usesHead = batch.contains { !$0.tokenTargets.isEmpty }
        let cosineLayers = batch.flatMap { $0.cosineTargets.map(\.layer) }
        // Record from the lowest trainable block (or just below the lowest cosine target, whose value is read
        // from the input of the next block) up to the last block a loss reads.
        let top = usesHead ? cfg.blockCount : (cosineLayers.max() ?? -1) + 1
        let lowest = min(trainable.lowerBound, (cosineLayers.min() ?? cfg.blockCount) + 1, top)
        var items = batch.map { ForwardItem(tokens: $0.tokens, cache: makeCache(), logits: .none) }
        var residual: [Float]?
        if lowest > 0 {
            residual = forward(&items, blocks: 0..<lowest).flatMap { $0.residual ?? [] }
        }
        let tape = ActivationTape(blocks: lowest..<top)
        _ = forward(&items, blocks: lowest..<top, residual: residual, tape: tape)
        let T = tape.totalRows
        var loss = 0.0, crossEntropy = 0.0, cosines = [Float]()

        // Token targets through the final norm and the head.
        var finalGradient: [Float]?
        let targets = batch.enumerated().flatMap { i, s in s.tokenTargets.map { (tape.rowStart[i] + $0.position, $0) } }
        if !targets.isEmpty, let out = tape.output {
            let rows = targets.map(\.0)
            let logits = out.withUnsafeBufferPointer { headForward($0.baseAddress!, rows: rows).logits }
            // dlogits = weight/rows · (softmax − target), in place.
            let scale = crossEntropyWeight / Float(rows.count)
            for (k, (_, target)) in targets.enumerated() {
                let row = logits.pointer + k * vocab
                let lse = ActivationKernels.logSumExp(row, count: vocab)
                for t in target.distribution { crossEntropy -= Double(t.probability) * (Double(row[t.token]) - lse) }
                guard gradients != nil else { continue }
                for j in 0..<vocab { row[j] = Float(exp(Double(row[j]) - lse)) * scale }
                for t in target.distribution { row[t.token] -= t.probability * scale }
            }
            crossEntropy /= Double(rows.count)
            loss += Double(crossEntropyWeight) * crossEntropy
            if gradients != nil {
                finalGradient = out.withUnsafeBufferPointer { headBackward($0.baseAddress!, totalRows: T, rows: rows, dLogits: logits) }
            }
        }

        // Cosine targets on block outputs.
        var blockGradients = [Int: [Float]]()
        for (i, s) in batch.enumerated() {
            for c in s.cosineTargets {
                let row = tape.rowStart[i] + c.position
                let h = tape.blockOutput(c.layer)!
                let hRow = Array(h[row * d..<(row + 1) * d])
                let (cos, dCos) = Self.cosineAndGradient(hRow, c.vector)
                cosines.append(cos)
                let (value, dLoss) = c.value(cosine: cos)
                loss += Double(c.weight * value)
                guard gradients != nil else { continue }
                var gradient = blockGradients[c.layer] ?? [Float](repeating: 0, count: T * d)
                for j in 0..<d { gradient[row * d + j] += c.weight * dLoss * dCos[j] }
                blockGradients[c.layer] = gradient
            }
        }
        guard let gradients else { return LossReport(loss: loss, crossEntropy: crossEntropy, cosines: cosines) }
        switch routing {
        case .asRun:
            backward(tape: tape, finalInputGradient: finalGradient, blockOutputGradients: blockGradients,
                     trainable: Set(trainable), into: gradients)
        case .asIntended:
            // Token loss to every trainable weight; cosine loss to attention V and O only.
            if finalGradient != nil {
                backward(tape: tape, finalInputGradient: finalGradient, blockOutputGradients: [:],
                         trainable: Set(trainable), into: gradients)
            }
            if !blockGradients.isEmpty {
                let cosineOnly = Dictionary(uniqueKeysWithValues: trainable.map { ($0, BlockGradients(zerosLike: weights.blocks[$0])) })
                backward(tape: tape, finalInputGradient: nil, blockOutputGradients: blockGradients,
                         trainable: Set(trainable), into: cosineOnly)
                let d = cfg.embeddingLength, vRows = (cfg.queryWidth + cfg.keyValueWidth)..<(cfg.queryWidth + 2 * cfg.keyValueWidth)
                for (l, g) in cosineOnly {
                    guard let target = gradients[l] else { continue }
                    ActivationKernels.add(g.qkv.pointer + vRows.lowerBound * d, into: target.qkv.pointer + vRows.lowerBound * d,
                                          count: vRows.count * d)
                    ActivationKernels.add(g.attentionOutput.pointer, into: target.attentionOutput.pointer,
                                          count: g.attentionOutput.count)
                }
            }
        }
        return LossReport(loss: loss, crossEntropy: crossEntropy, cosines: cosines)
    }

    /// `cos(h, v)` and its gradient with respect to `h`: `v/(|h||v|) − cos · h/|h|²`.
    static func cosineAndGradient(_ h: [Float], _ v: [Float]) -> (Float, [Float]) {
        var hh = 0.0, vv = 0.0, hv = 0.0
        for j in h.indices {
            hh += Double(h[j]) * Double(h[j])
            vv += Double(v[j]) * Double(v[j])
            hv += Double(h[j]) * Double(v[j])
        }
        let nh = hh.squareRoot(), nv = vv.squareRoot()
        let cos = hv / (nh * nv)
        let grad = h.indices.map { j in Float(Double(v[j]) / (nh * nv) - cos * Double(h[j]) / hh) }
        return (Float(cos), grad)
    }
}

/// Which weights the cosine loss's gradient reaches (METHOD.md §5): the paper meant attention V/O only, but its
/// gradient hooks were no-ops, so both losses reached every trainable weight.
public enum GradientRouting: String, Sendable, Codable, CaseIterable {
    /// Every loss reaches every trainable weight (what the paper's runs did).
    case asRun = "as-run"
    /// The token loss reaches every trainable weight, the cosine loss only attention V and O.
    case asIntended = "as-intended"
}
