import ModelFormats

extension LlamaModel {
    /// The MLP sub-block of block `l`: `y = h + Down · (silu(Gate · RMSNorm(h)) ⊙ (Up · RMSNorm(h)))`, gate and up
    /// stacked into one projection.
    ///
    /// Reads `a.h` [T × d]; writes `a.normed` [T × d], `a.gateUp` [T × 2ff], `a.hidden` [T × ff], `a.y` [T × d].
    func mlpForward(block l: Int, _ a: BlockActivations, rows T: Int) {
        let cfg = config, w = weights.blocks[l], d = cfg.embeddingLength, ff = cfg.feedForwardLength
        normedProjection(a.h, rows: T, norm: w.ffnNorm, w.gateUp, normed: a.normed, into: a.gateUp)
        let gateUp = a.gateUp.pointer, hidden = a.hidden.pointer
        ParallelLoop.rows(T, grain: 16) { rows in
            for r in rows {
                let g = gateUp + r * 2 * ff
                ActivationKernels.siluGate(g, g + ff, into: hidden + r * ff, count: ff)
            }
        }
        a.y.pointer.update(from: a.h.pointer, count: T * d)
        w.down.project(a.hidden.pointer, rows: T, into: a.y.pointer, accumulate: true)
    }

    /// Backward of block `l`'s MLP sub-block over the recorded `r`: `g` holds ∂loss/∂y [T × d] on entry and
    /// ∂loss/∂h on return; the weights' gradients are added to `grads` (nil: a frozen block, passed through).
    func mlpBackward(block l: Int, _ r: ActivationTape.Block, rows T: Int, gradient g: FloatBuffer, into grads: BlockGradients?) {
        let w = weights.blocks[l], ff = config.feedForwardLength
        // ∂/∂hidden = ∂y · Down; ∂Down += ∂yᵀ · hidden.
        let dHidden = outputProjectionBackward(r.hidden, rows: T, width: ff, w.down, gradient: g, weightGradient: grads?.down)
        let dGateUp = FloatBuffer(count: T * 2 * ff)
        r.gateUp.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            ParallelLoop.rows(T, grain: 16) { rows in
                for row in rows {
                    let gu = base + row * 2 * ff, out = dGateUp.pointer + row * 2 * ff
                    BackwardKernels.siluGate(gate: gu, up: gu + ff, dh: dHidden.pointer + row * ff, dGate: out, dUp: out + ff,
                                             count: ff)
                }
            }
        }
        // g becomes ∂/∂h = ∂y + RMSNorm'(h) · (∂gateUp · GateUp).
        normedProjectionBackward(r.h, rows: T, norm: w.ffnNorm, w.gateUp, dOut: dGateUp, width: 2 * ff, gradient: g,
                                 weightGradient: grads?.gateUp, normGradient: grads?.ffnNorm)
    }
}
