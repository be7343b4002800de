import CBLAS
import Foundation
import ModelFormats

extension LlamaModel {
    /// Back-propagates through the blocks recorded on `tape`, from the top down to `tape.blocks.lowerBound`.
    ///
    /// - Parameters:
    ///   - finalInputGradient: ∂loss/∂(input of the final norm), `[tokens × d]`, or nil when no loss reads the head.
    ///   - blockOutputGradients: extra ∂loss/∂(output of block L), `[tokens × d]`, by L (the cosine losses).
    ///   - trainable: blocks whose weights receive gradients (others are only passed through).
    ///   - gradients: accumulated into (`+=`), by block.
    /// - Returns: ∂loss/∂(input of the lowest recorded block).
    @discardableResult
    public func backward(tape: ActivationTape, finalInputGradient: [Float]?, blockOutputGradients: [Int: [Float]],
                         trainable: Set<Int>, into gradients: [Int: BlockGradients]) -> [Float] {
        let cfg = config
        let T = tape.totalRows, d = cfg.embeddingLength
        let g = FloatBuffer(count: T * d)
        if let f = finalInputGradient { f.withUnsafeBufferPointer { g.pointer.update(from: $0.baseAddress!, count: T * d) } }
        for l in tape.blocks.reversed() {
            if let extra = blockOutputGradients[l] {
                extra.withUnsafeBufferPointer { ActivationKernels.add($0.baseAddress!, into: g.pointer, count: T * d) }
            }
            blockBackward(l, tape: tape, gradient: g, into: trainable.contains(l) ? gradients[l] : nil)
        }
        return g.array
    }

    /// One block's backward: `g` holds ∂loss/∂(block output) on entry and ∂loss/∂(block input) on return. A frozen
    /// block may hold native weights: its data gradients go through `ProjectionWeight.transposedProduct`.
    func blockBackward(_ l: Int, tape: ActivationTape, gradient g: FloatBuffer, into grads: BlockGradients?) {
        let cfg = config, w = weights.blocks[l]
        let T = tape.totalRows, d = cfg.embeddingLength, qW = cfg.queryWidth, kvW = cfg.keyValueWidth
        let qkvW = qW + 2 * kvW, ff = cfg.feedForwardLength, eps = cfg.rmsEpsilon
        guard let xIn = tape.blockInput[l], let qkv = tape.qkv[l], let attn = tape.attention[l],
              let h1 = tape.midResidual[l], let gu = tape.gateUp[l], let hidden = tape.hidden[l] else {
            preconditionFailure("block \(l) was not recorded on the tape")
        }
        // MLP: x_out = h1 + down(silu(gate) ⊙ up)(RMSNorm(h1)).
        let dHidden = FloatBuffer(count: T * ff)
        w.down.transposedProduct(g.pointer, rows: T, into: dHidden.pointer)
        if let grads {
            hidden.withUnsafeBufferPointer {
                MatMul.gemm(transA: true, m: d, n: ff, k: T, g.pointer, lda: d, $0.baseAddress!, ldb: ff, beta: 1,
                            grads.down.pointer, ldc: ff)
            }
        }
        let dGU = FloatBuffer(count: T * 2 * ff)
        gu.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            ParallelLoop.rows(T, grain: 16) { rows in
                for r in rows {
                    let row = base + r * 2 * ff, out = dGU.pointer + r * 2 * ff
                    BackwardKernels.siluGate(gate: row, up: row + ff, dh: dHidden.pointer + r * ff, dGate: out,
                                             dUp: out + ff, count: ff)
                }
            }
        }
        let xn = FloatBuffer(count: T * d)
        h1.withUnsafeBufferPointer {
            RMSNormKernel.apply($0.baseAddress!, rows: T, width: d, weight: w.ffnNorm.pointer, epsilon: eps, into: xn.pointer)
        }
        if let grads {
            MatMul.gemm(transA: true, m: 2 * ff, n: d, k: T, dGU.pointer, lda: 2 * ff, xn.pointer, ldb: d, beta: 1,
                        grads.gateUp.pointer, ldc: d)
        }
        let dxn = FloatBuffer(count: T * d)
        w.gateUp.transposedProduct(dGU.pointer, rows: T, into: dxn.pointer)
        // g becomes ∂/∂h1 = g + RMSNorm'(h1)·dxn.
        h1.withUnsafeBufferPointer {
            BackwardKernels.rmsNorm(x: $0.baseAddress!, dy: dxn.pointer, rows: T, width: d, weight: w.ffnNorm.pointer,
                                    epsilon: eps, dx: g.pointer, dw: grads?.ffnNorm.pointer)
        }
        // Attention: h1 = x_in + O(attention(RoPE(QKV(RMSNorm(x_in))))).
        let dAttn = FloatBuffer(count: T * qW)
        w.attentionOutput.transposedProduct(g.pointer, rows: T, into: dAttn.pointer)
        if let grads {
            attn.withUnsafeBufferPointer {
                MatMul.gemm(transA: true, m: d, n: qW, k: T, g.pointer, lda: d, $0.baseAddress!, ldb: qW, beta: 1,
                            grads.attentionOutput.pointer, ldc: qW)
            }
        }
        let dQKV = FloatBuffer(count: T * qkvW)
        qkv.withUnsafeBufferPointer { q in
            for (i, n) in tape.lengths.enumerated() {
                let r0 = tape.rowStart[i]
                attentionBackward(qkv: q.baseAddress! + r0 * qkvW, dOut: dAttn.pointer + r0 * qW,
                                  dQKV: dQKV.pointer + r0 * qkvW, tokens: n)
            }
        }
        if let grads {
            if let db = grads.qkvBias {
                for r in 0..<T { ActivationKernels.add(dQKV.pointer + r * qkvW, into: db.pointer, count: qkvW) }
            }
            xIn.withUnsafeBufferPointer {
                RMSNormKernel.apply($0.baseAddress!, rows: T, width: d, weight: w.attentionNorm.pointer, epsilon: eps,
                                    into: xn.pointer)
            }
            MatMul.gemm(transA: true, m: qkvW, n: d, k: T, dQKV.pointer, lda: qkvW, xn.pointer, ldb: d, beta: 1,
                        grads.qkv.pointer, ldc: d)
        }
        w.qkv.transposedProduct(dQKV.pointer, rows: T, into: dxn.pointer)
        xIn.withUnsafeBufferPointer {
            BackwardKernels.rmsNorm(x: $0.baseAddress!, dy: dxn.pointer, rows: T, width: d,
                                    weight: w.attentionNorm.pointer, epsilon: eps, dx: g.pointer,
                                    dw: grads?.attentionNorm.pointer)
        }
    }

    /// Causal GQA attention backward for one sequence starting at position 0: from ∂loss/∂(attention output)
    /// to ∂loss/∂(Q, K, V before RoPE), written into `dQKV` (same layout as `qkv`).
    func attentionBackward(qkv: UnsafePointer<Float>, dOut: UnsafePointer<Float>, dQKV: UnsafeMutablePointer<Float>,
                           tokens n: Int) {
        let cfg = config, hd = cfg.headDimension, qW = cfg.queryWidth, kvW = cfg.keyValueWidth
        let qkvW = qW + 2 * kvW, group = cfg.headCount / cfg.headCountKV
        let scale = 1 / Float(hd).squareRoot()
        let P = UnsafeMutablePointer<Float>.allocate(capacity: n * n), dP = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { P.deallocate(); dP.deallocate() }
        for h in 0..<cfg.headCount {
            let kvh = h / group
            let q = qkv + h * hd, k = qkv + qW + kvh * hd, v = qkv + qW + kvW + kvh * hd
            let dq = dQKV + h * hd, dk = dQKV + qW + kvh * hd, dv = dQKV + qW + kvW + kvh * hd
            let dO = dOut + h * hd
            // P = softmax(scale · Q Kᵀ) with the causal mask.
            MatMul.gemm(transB: true, m: n, n: n, k: hd, alpha: scale, q, lda: qkvW, k, ldb: qkvW, P, ldc: n)
            for r in 0..<n {
                ActivationKernels.softmax(P + r * n, count: r + 1)
                (P + r * n + r + 1).update(repeating: 0, count: n - r - 1)
            }
            // dV += Pᵀ dO; dP = dO Vᵀ.
            MatMul.gemm(transA: true, m: n, n: hd, k: n, P, lda: n, dO, ldb: qW, beta: 1, dv, ldc: qkvW)
            MatMul.gemm(transB: true, m: n, n: n, k: hd, dO, lda: qW, v, ldb: qkvW, dP, ldc: n)
            // dS = P ⊙ (dP − Σ_j dP·P), in place in dP.
            for r in 0..<n {
                let pr = P + r * n, dpr = dP + r * n
                var dot: Float = 0
                for j in 0...r { dot += pr[j] * dpr[j] }
                for j in 0..<n { dpr[j] = pr[j] * (dpr[j] - dot) }
            }
            // dQ = scale · dS K; dK += scale · dSᵀ Q.
            MatMul.gemm(m: n, n: hd, k: n, alpha: scale, dP, lda: n, k, ldb: qkvW, dq, ldc: qkvW)
            MatMul.gemm(transA: true, m: n, n: hd, k: n, alpha: scale, dP, lda: n, q, ldb: qkvW, beta: 1, dk, ldc: qkvW)
        }
        // Undo RoPE on the gradients of Q and K: the rotation is orthogonal, so its backward is the inverse rotation.
        let trig = UnsafeMutablePointer<Float>.allocate(capacity: hd)
        defer { trig.deallocate() }
        for t in 0..<n {
            let row = dQKV + t * qkvW
            rope.rotateInverse(row, heads: cfg.headCount, position: t, cos: trig, sin: trig + hd / 2)
            rope.rotateInverse(row + qW, heads: cfg.headCountKV, position: t, cos: trig, sin: trig + hd / 2)
        }
    }
}
