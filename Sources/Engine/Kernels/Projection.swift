import QuantizedKernels

extension ProjectionWeight {
    /// `y[rows × self.rows] (+)= x[rows × self.columns] · Wᵀ`, through whatever form the weights are held in: fp32
    /// sgemm/sgemv; the file's q4_1/q8_0 blocks with fp32 activations for a decode step of the fp32 policy
    /// (`QuantizedMatMul`, up to `QuantizedMatMul.maxRows` rows); `NativeMatMul` for native weights (`precise`:
    /// 16-bit activations on its dot path, for the output head).
    @inline(__always)
    public func project(_ x: UnsafePointer<Float>, rows n: Int, ldx: Int? = nil, into y: UnsafeMutablePointer<Float>,
                        ldy: Int? = nil, accumulate: Bool = false, precise: Bool = false) {
        guard let values else {
            return NativeMatMul.projection(x, rows: n, ldx: ldx, weight: encoded!, into: y, ldy: ldy, accumulate: accumulate,
                                           precise: precise)
        }
        if let encoded, n <= QuantizedMatMul.maxRows, CPUFeatures.hasAVX2,
           encoded.parts.allSatisfy({ QuantizedMatMul.handles($0.rows.type) }) {
            for p in encoded.parts {
                QuantizedMatMul.projection(x, rows: n, inFeatures: columns, ldx: ldx, weight: p.rows, into: y + p.firstRow,
                                           ldy: ldy ?? rows, accumulate: accumulate, threads: ParallelLoop.cores)
            }
            return
        }
        MatMul.projection(x, rows: n, inFeatures: columns, ldx: ldx, weight: values.pointer, outFeatures: rows, into: y,
                          ldy: ldy, accumulate: accumulate)
    }

    /// `dX[rows × self.columns] (+)= dY[rows × self.rows] · W` (a gradient carried back through the projection).
    @inline(__always)
    public func transposedProduct(_ dY: UnsafePointer<Float>, rows n: Int, ldy: Int? = nil,
                                  into dX: UnsafeMutablePointer<Float>, ldx: Int? = nil, accumulate: Bool = false) {
        guard let values else {
            return NativeMatMul.transposedProduct(dY, rows: n, ldy: ldy, weight: encoded!, into: dX, ldx: ldx,
                                                  accumulate: accumulate)
        }
        MatMul.gemm(m: n, n: columns, k: rows, dY, lda: ldy ?? rows, values.pointer, ldb: columns,
                    beta: accumulate ? 1 : 0, dX, ldc: ldx ?? columns)
    }
}
