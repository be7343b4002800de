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
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: n * context)
        defer { scores.deallocate() }
        for h in 0..<heads {
            let kvh = h / group
            let q = queries + h * hd, k = keys + kvh * hd, v = values + kvh * hd, o = output + h * hd
            if n == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(context), Int32(hd), scale, k, Int32(ldkv), q, 1, 0,
                            scores, 1)
                ActivationKernels.softmax(scores, count: context)
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(context), Int32(hd), 1, v, Int32(ldkv), scores, 1, 0,
                            o, 1)
                continue
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(context), Int32(hd), scale,
                        q, Int32(ldq), k, Int32(ldkv), 0, scores, Int32(context))
            for r in 0..<n {
                let row = scores + r * context
                let visible = past + r + 1
                ActivationKernels.softmax(row, count: visible)
                if visible < context { (row + visible).update(repeating: 0, count: context - visible) }
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(hd), Int32(context), 1,
                        scores, Int32(context), v, Int32(ldkv), 0, o, Int32(ldo))
        }
    }
}
