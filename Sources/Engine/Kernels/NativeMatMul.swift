import ModelFormats
import QuantizedKernels

/// Products with weights in their file's encoding (`NativeMatrix`), two ways:
///
/// - **dot** (`rows ≤ dotRowLimit`, decode steps): the activation rows are quantized to 8 bits per block of 32
///   once, and every weight row is read once from the map and multiplied in integers (`IntegerDot`; f16/bf16/f32
///   rows with fp32 activations through `FloatDot`). The weight rows are split over the cores.
/// - **panels** (larger batches, prefill): a panel of weight rows is decoded into a cache-resident fp32 buffer and
///   multiplied by every activation row through sgemm (exact fp32 arithmetic on the decoded weights); f32 rows are
///   read in place. The decode costs O(weights) per call and is shared by all rows, so a large batch runs close to
///   sgemm speed.
///
/// Which is faster depends on the shape: `reptune bench` measures both (`native dot` / `native panels` rows) and
/// `dotRowLimit` is where they cross on the machines measured. Without AVX2 only the panel path exists (decoded by
/// the portable file dequantizer).
public enum NativeMatMul {
    /// The largest batch that takes the dot path (see `reptune bench`).
    public static let dotRowLimit = 32
    /// fp32 values per decoded panel (1 MiB): small enough to stay in L2 while sgemm reads it.
    static let panelValues = 1 << 18

    /// Which kernel a product uses.
    public enum Path: Sendable { case dot, panels }

    /// The path `projection` takes for a batch of `rows`.
    public static func path(rows: Int) -> Path {
        CPUFeatures.hasAVX2 && rows <= dotRowLimit ? .dot : .panels
    }

    /// `y[rows × w.rows] (+)= x[rows × w.columns] · wᵀ` (row strides `ldx`, `ldy`).
    ///
    /// - Parameter precise: on the dot path, quantize the activations to 16 bits rather than 8, for the output head,
    ///   whose errors every logit of the softmax shares.
    public static func projection(_ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, weight w: NativeMatrix,
                                  into y: UnsafeMutablePointer<Float>, ldy: Int? = nil, accumulate: Bool = false,
                                  precise: Bool = false, path forced: Path? = nil) {
        let ldx = ldx ?? w.columns, ldy = ldy ?? w.rows
        guard rows > 0, w.rows > 0 else { return }
        switch forced ?? path(rows: rows) {
        case .dot: dotProduct(x, rows: rows, ldx: ldx, w, y, ldy: ldy, accumulate: accumulate, precise: precise)
        case .panels: panelProduct(x, rows: rows, ldx: ldx, w, y, ldy: ldy, accumulate: accumulate)
        }
    }

    /// `dX[rows × w.columns] (+)= dY[rows × w.rows] · w` — the product a backward pass needs to carry a gradient
    /// through a frozen projection — over panels of decoded weight rows.
    public static func transposedProduct(_ dY: UnsafePointer<Float>, rows: Int, ldy: Int? = nil, weight w: NativeMatrix,
                                         into dX: UnsafeMutablePointer<Float>, ldx: Int? = nil, accumulate: Bool = false) {
        let ldy = ldy ?? w.rows, ldx = ldx ?? w.columns
        guard rows > 0 else { return }
        var first = !accumulate
        forEachPanel(of: w) { range, panel, ldp in
            MatMul.gemm(m: rows, n: w.columns, k: range.count, dY + range.lowerBound, lda: ldy, panel, ldb: ldp,
                        beta: first ? 0 : 1, dX, ldc: ldx)
            first = false
        }
        if first { for r in 0..<rows { (dX + r * ldx).update(repeating: 0, count: w.columns) } }
    }

    // MARK: - Dot path

    static func dotProduct(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ w: NativeMatrix,
                           _ y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool, precise: Bool) {
        precondition(CPUFeatures.hasAVX2, "NativeMatMul: the dot path needs AVX2")
        let quantized: QuantizedActivations?
        if w.parts.contains(where: { IntegerDot.handles($0.rows.type) }) {
            let q = QuantizedActivations(rows: rows, columns: w.columns, wide: precise)
            q.quantize(x, rows: rows, ldx: ldx)
            quantized = q
        } else {
            quantized = nil
        }
        // At least 64 weight rows per thread, so small matrices don't pay for a hand-off.
        let threads = max(1, min(ParallelLoop.cores, w.rows / 64))
        let xAddress = UInt(bitPattern: x), yAddress = UInt(bitPattern: y)
        ParallelLoop.run(threads) { t in
            let x = UnsafePointer<Float>(bitPattern: xAddress)!, y = UnsafeMutablePointer<Float>(bitPattern: yAddress)!
            let mine = (w.rows * t / threads)..<(w.rows * (t + 1) / threads)
            for p in w.parts {
                let lo = max(mine.lowerBound, p.firstRow), hi = min(mine.upperBound, p.firstRow + p.rows.rows)
                guard lo < hi else { continue }
                let local = (lo - p.firstRow)..<(hi - p.firstRow)
                if IntegerDot.handles(p.rows.type) {
                    IntegerDot.product(p.rows, rows: local, x: quantized!, xRows: rows, into: y + lo, ldy: ldy,
                                       accumulate: accumulate)
                } else {
                    FloatDot.product(p.rows, rows: local, x: x, ldx: ldx, xRows: rows, into: y + lo, ldy: ldy,
                                     accumulate: accumulate)
                }
            }
        }
    }

    // MARK: - Panel path

    static func panelProduct(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ w: NativeMatrix,
                             _ y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        forEachPanel(of: w) { range, panel, ldp in
            MatMul.gemm(transB: true, m: rows, n: range.count, k: w.columns, x, lda: ldx, panel, ldb: ldp,
                        beta: accumulate ? 1 : 0, y + range.lowerBound, ldc: ldy)
        }
    }

    /// Calls `body(rows, panel, ldp)` for consecutive panels of `w`'s rows as fp32: f32 parts in place, others
    /// decoded (over the cores) into a reused buffer.
    static func forEachPanel(of w: NativeMatrix, _ body: (Range<Int>, UnsafePointer<Float>, Int) -> Void) {
        let k = w.columns
        let height = max(8, min(w.rows, panelValues / max(k, 1)))
        var scratch: FloatBuffer?
        for p in w.parts {
            let part = p.rows
            if part.type == .f32 {
                body(p.firstRow..<(p.firstRow + part.rows), part.base.assumingMemoryBound(to: Float.self), k)
                continue
            }
            let buffer = scratch ?? FloatBuffer(count: height * k)
            scratch = buffer
            var r = 0
            while r < part.rows {
                let n = min(height, part.rows - r)
                let global = (p.firstRow + r)..<(p.firstRow + r + n)
                let threads = max(1, min(ParallelLoop.cores, n * k / 32768))
                let out = buffer.pointer
                ParallelLoop.run(threads) { t in
                    let lo = global.lowerBound + n * t / threads, hi = global.lowerBound + n * (t + 1) / threads
                    w.decode(rows: lo..<hi, into: out + (lo - global.lowerBound) * k, ldo: k)
                }
                body(global, buffer.pointer, k)
                r += n
            }
        }
    }
}
