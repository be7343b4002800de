import CBLAS

/// Causal grouped-query attention of one sequence's new tokens over its KV cache.
public enum AttentionKernel {
    /// For each query head `h` (sharing key/value head `h / group`): `softmax(scale · Q_h K_hᵀ + mask) V_h`.
    ///
    /// - Parameters:
    ///   - queries: `[newTokens × ·]` with head `h` at columns `h·hd ..< (h+1)·hd`, leading dimension `ldq`.
    ///   - keys, values: the cache, `[context × ·]` with leading dimension `ldkv`; the new tokens are its last rows.
    ///   - output: `[newTokens × ·]`, head `h` written at columns `h·hd`, leading dimension `ldo`.
    public static func causal(queries: UnsafePointer<Float>, ldq: Int, keys: UnsafePointer<Float>,
                              values: UnsafePointer<Float>, ldkv: Int, output: UnsafeMutablePointer<Float>, ldo: Int,
                              newTokens n: Int, context: Int, heads: Int, group: Int, headDimension hd: Int,
                              scale: Float) {
        let past = context - n
        if n <= directThreshold {
            // Split the heads over the cores when there is enough work to pay for it (BLAS is idle here).
            let work = n * context * heads * hd
            let parts = work >= 1 << 18 ? min(ParallelLoop.cores, heads) : 1
            ParallelLoop.run(parts) { part in
                let h0 = heads * part / parts, h1 = heads * (part + 1) / parts
                direct(queries: queries, ldq: ldq, keys: keys, values: values, ldkv: ldkv, output: output, ldo: ldo,
                       newTokens: n, context: context, heads: h0..<h1, group: group, headDimension: hd, scale: scale)
            }
            return
        }
        // Long prompts: per head, query rows in chunks of `directThreshold`, each scored through sgemm against only
        // the keys it can see (the causal triangle, not the square); the softmax of a chunk's rows is split over the
        // cores while BLAS is idle.
        let chunk = directThreshold
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: chunk * context)
        defer { scores.deallocate() }
        for h in 0..<heads {
            let kvh = h / group
            let k = keys + kvh * hd, v = values + kvh * hd
            for c0 in stride(from: 0, to: n, by: chunk) {
                let rows = min(chunk, n - c0), seen = past + c0 + rows
                let q = queries + c0 * ldq + h * hd, o = output + c0 * ldo + h * hd
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(seen), Int32(hd), scale,
                            q, Int32(ldq), k, Int32(ldkv), 0, scores, Int32(seen))
                ParallelLoop.rows(rows, grain: 16) { part in
                    for r in part {
                        let row = scores + r * seen
                        let visible = past + c0 + r + 1
                        ActivationKernels.softmax(row, count: visible)
                        if visible < seen { (row + visible).update(repeating: 0, count: seen - visible) }
                    }
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(seen), 1,
                            scores, Int32(seen), v, Int32(ldkv), 0, o, Int32(ldo))
            }
        }
    }

    /// Up to this many new tokens, attention runs in `direct` (decode steps, short prompts: hundreds of tiny sgemm
    /// calls cost more than the arithmetic); beyond, through sgemm.
    public static let directThreshold = 128

    /// Attention without BLAS: per query row, dot products with the visible keys, softmax, weighted sum of values.
    /// Avoids hundreds of tiny BLAS calls per decode step.
    public static func direct(queries: UnsafePointer<Float>, ldq: Int, keys: UnsafePointer<Float>,
                              values: UnsafePointer<Float>, ldkv: Int, output: UnsafeMutablePointer<Float>, ldo: Int,
                              newTokens n: Int, context: Int, heads: Range<Int>, group: Int, headDimension hd: Int,
                              scale: Float) {
        let past = context - n
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: context)
        defer { scores.deallocate() }
        for r in 0..<n {
            let visible = past + r + 1
            for h in heads {
                let kvh = h / group
                let q = queries + r * ldq + h * hd, o = output + r * ldo + h * hd
                for j in 0..<visible {
                    scores[j] = scale * ActivationKernels.dot(q, keys + j * ldkv + kvh * hd, count: hd)
                }
                ActivationKernels.softmax(scores, count: visible)
                o.update(repeating: 0, count: hd)
                for j in 0..<visible {
                    ActivationKernels.addScaled(values + j * ldkv + kvh * hd, scale: scores[j], into: o, count: hd)
                }
            }
        }
    }
}
