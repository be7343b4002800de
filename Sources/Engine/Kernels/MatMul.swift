import CBLAS

/// Matrix products on row-major fp32 buffers, all through OpenBLAS.
///
/// Weights are stored `[out × in]` (the GGUF/HF layout), activations `[tokens × features]`, so a projection is
/// `Y = X · Wᵀ`. A single row uses `sgemv`, which on OpenBLAS is several times faster than a 1-row `sgemm`.
public enum MatMul {
    /// `y[rows × out] (+)= x[rows × in] · w[out × in]ᵀ`, with leading dimensions for strided views.
    @inline(__always)
    public static func projection(_ x: UnsafePointer<Float>, rows: Int, inFeatures: Int, ldx: Int? = nil,
                                  weight w: UnsafePointer<Float>, outFeatures: Int,
                                  into y: UnsafeMutablePointer<Float>, ldy: Int? = nil, accumulate: Bool = false) {
        let beta: Float = accumulate ? 1 : 0
        let ldx = ldx ?? inFeatures, ldy = ldy ?? outFeatures
        if rows == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outFeatures), Int32(inFeatures), 1, w, Int32(inFeatures),
                        x, 1, beta, y, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
                        1, x, Int32(ldx), w, Int32(inFeatures), beta, y, Int32(ldy))
        }
    }

    /// General `C[m × n] = alpha · op(A) · op(B) + beta · C` (row-major).
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                            _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets the number of OpenBLAS threads (one pool for the whole process).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
