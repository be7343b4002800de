import ModelFormats

extension LlamaModel {
    /// The attention sub-block of block `l`: `h = x + O · attention(RoPE(QKV · RMSNorm(x)))`, causal GQA attention
    /// per sequence over its KV cache, to which the new rows' keys and values are appended.
    ///
    /// Reads `a.x` [T × d]; writes `a.normed` [T × d], `a.qkv` [T × (q + 2kv)], `a.attention` [T × q], `a.h` [T × d].
    func attentionForward(block l: Int, _ a: BlockActivations, _ batch: RaggedBatch, items: inout [ForwardItem]) {
        let cfg = config, w = weights.blocks[l], T = batch.total
        let d = cfg.embeddingLength, qW = cfg.queryWidth, kvW = cfg.keyValueWidth, qkvW = qW + 2 * kvW
        let hd = cfg.headDimension, nHead = cfg.headCount, group = cfg.headCount / cfg.headCountKV, half = batch.half
        normedProjection(a.x, rows: T, norm: w.attentionNorm, w.qkv, normed: a.normed, into: a.qkv)
        if let bias = w.qkvBias {
            for r in 0..<T { ActivationKernels.add(bias.pointer, into: a.qkv.pointer + r * qkvW, count: qkvW) }
        }
        for r in 0..<T {
            let row = a.qkv.pointer + r * qkvW, c = batch.cosines.pointer + r * half, s = batch.sines.pointer + r * half
            rope.apply(row, heads: nHead, cos: c, sin: s)
            rope.apply(row + qW, heads: cfg.headCountKV, cos: c, sin: s)
        }
        // By index: a copy of the item would share its cache's storage, and the append would copy the block's whole
        // cache on every step.
        for i in items.indices {
            let start = a.qkv.pointer + batch.rowStart[i] * qkvW
            items[i].cache.append(block: l, keys: start + qW, values: start + qW + kvW, rows: batch.lengths[i], ld: qkvW)
        }
        // Attention per sequence. Decode steps and short prompts split the sequences over the cores (each one's
        // attention is small); long prompts go one by one through sgemm.
        let caches = items.map { ($0.cache.keys[l], $0.cache.values[l]) }
        let direct = batch.lengths.allSatisfy { $0 <= AttentionKernel.directThreshold }
        let parts = direct && batch.count > 1 ? min(ParallelLoop.cores, batch.count) : 1
        let qkv = a.qkv.pointer, attention = a.attention.pointer, scale = 1 / Float(hd).squareRoot()
        ParallelLoop.run(parts) { part in
            for i in (batch.count * part / parts)..<(batch.count * (part + 1) / parts) {
                let n = batch.lengths[i], r0 = batch.rowStart[i]
                caches[i].0.withUnsafeBufferPointer { k in
                    caches[i].1.withUnsafeBufferPointer { v in
                        AttentionKernel.causal(queries: qkv + r0 * qkvW, ldq: qkvW, keys: k.baseAddress!, values: v.baseAddress!,
                                               ldkv: kvW, output: attention + r0 * qW, ldo: qW, newTokens: n,
                                               context: batch.bases[i] + n, heads: nHead, group: group, headDimension: hd,
                                               scale: scale)
                    }
                }
            }
        }
        a.h.pointer.update(from: a.x.pointer, count: T * d)
        w.attentionOutput.project(a.attention.pointer, rows: T, into: a.h.pointer, accumulate: true)
    }

    /// Backward of block `l`'s attention sub-block over the recorded `r`: `g` holds ∂loss/∂h [T × d] on entry and
    /// ∂loss/∂x on return; the weights' gradients are added to `grads` (nil: a frozen block, passed through).
    func attentionBackward(block l: Int, _ r: ActivationTape.Block, rows tape: ActivationTape, gradient g: FloatBuffer,
                           into grads: BlockGradients?) {
        let cfg = config, w = weights.blocks[l], T = tape.totalRows
        let qW = cfg.queryWidth, qkvW = qW + 2 * cfg.keyValueWidth
        // ∂/∂attention = ∂h · O; ∂O += ∂hᵀ · attention.
        let dAttention = outputProjectionBackward(r.attention, rows: T, width: qW, w.attentionOutput, gradient: g,
                                                  weightGradient: grads?.attentionOutput)
        let dQKV = FloatBuffer(count: T * qkvW)
        r.qkv.withUnsafeBufferPointer { q in
            for (i, n) in tape.lengths.enumerated() {
                let r0 = tape.rowStart[i]
                causalAttentionBackward(qkv: q.baseAddress! + r0 * qkvW, dOut: dAttention.pointer + r0 * qW,
                                        dQKV: dQKV.pointer + r0 * qkvW, tokens: n)
            }
        }
        if let db = grads?.qkvBias {
            for row in 0..<T { ActivationKernels.add(dQKV.pointer + row * qkvW, into: db.pointer, count: qkvW) }
        }
        // g becomes ∂/∂x = ∂h + RMSNorm'(x) · (∂QKV · QKV).
        normedProjectionBackward(r.x, rows: T, norm: w.attentionNorm, w.qkv, dOut: dQKV, width: qkvW, gradient: g,
                                 weightGradient: grads?.qkv, normGradient: grads?.attentionNorm)
    }

    /// Causal GQA attention backward for one sequence starting at position 0: from ∂loss/∂(attention output)
    /// [n × q] to ∂loss/∂(Q, K, V before RoPE), written into `dQKV` [n × (q + 2kv)] (the layout of `qkv`).
    func causalAttentionBackward(qkv: UnsafePointer<Float>, dOut: UnsafePointer<Float>, dQKV: UnsafeMutablePointer<Float>,
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
