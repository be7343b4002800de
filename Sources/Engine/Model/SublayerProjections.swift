import ModelFormats

/// The projections every sub-block begins and ends with, forward and backward: `W · RMSNorm(x)` in, `+= W · input`
/// back onto the residual.
extension LlamaModel {
    /// How each sub-block starts: `out = W · RMSNorm(x)` for x [T × d] (`normed` [T × d] receives RMSNorm(x)).
    func normedProjection(_ x: FloatBuffer, rows T: Int, norm: FloatBuffer, _ w: ProjectionWeight, normed: FloatBuffer,
                          into out: FloatBuffer) {
        RMSNormKernel.apply(x.pointer, rows: T, width: config.embeddingLength, weight: norm.pointer, epsilon: config.rmsEpsilon,
                            into: normed.pointer)
        w.project(normed.pointer, rows: T, into: out.pointer)
    }

    /// Backward of `normedProjection` from ∂loss/∂out [T × n]: adds RMSNorm'(x) · (∂out · W) to `g` (∂loss/∂x),
    /// and, for a trained block, ∂outᵀ · RMSNorm(x) to `weightGradient` [n × d] and the norm weight's gradient to
    /// `normGradient`.
    func normedProjectionBackward(_ x: [Float], rows T: Int, norm: FloatBuffer, _ w: ProjectionWeight, dOut: FloatBuffer,
                                  width n: Int, gradient g: FloatBuffer, weightGradient: ProjectionWeight?, normGradient: FloatBuffer?) {
        let d = config.embeddingLength, eps = config.rmsEpsilon
        x.withUnsafeBufferPointer { x in
            if let weightGradient {
                let normed = FloatBuffer(count: T * d)
                RMSNormKernel.apply(x.baseAddress!, rows: T, width: d, weight: norm.pointer, epsilon: eps, into: normed.pointer)
                MatMul.gemm(transA: true, m: n, n: d, k: T, dOut.pointer, lda: n, normed.pointer, ldb: d, beta: 1,
                            weightGradient.pointer, ldc: d)
            }
            let dNormed = FloatBuffer(count: T * d)
            w.transposedProduct(dOut.pointer, rows: T, into: dNormed.pointer)
            BackwardKernels.rmsNorm(x: x.baseAddress!, dy: dNormed.pointer, rows: T, width: d, weight: norm.pointer, epsilon: eps,
                                    dx: g.pointer, dw: normGradient?.pointer)
        }
    }

    /// Backward of how each sub-block ends, `residual += W · input` for input [T × n]: from ∂loss/∂residual `g`
    /// [T × d], returns ∂loss/∂input [T × n] and, for a trained block, adds gᵀ · input to `weightGradient` [d × n].
    func outputProjectionBackward(_ input: [Float], rows T: Int, width n: Int, _ w: ProjectionWeight, gradient g: FloatBuffer,
                                  weightGradient: ProjectionWeight?) -> FloatBuffer {
        let d = config.embeddingLength
        let dInput = FloatBuffer(count: T * n)
        w.transposedProduct(g.pointer, rows: T, into: dInput.pointer)
        if let weightGradient {
            input.withUnsafeBufferPointer {
                MatMul.gemm(transA: true, m: d, n: n, k: T, g.pointer, lda: d, $0.baseAddress!, ldb: n, beta: 1,
                            weightGradient.pointer, ldc: n)
            }
        }
        return dInput
    }
}
