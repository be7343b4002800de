import ModelFormats
import QuantizedKernels

/// A weight matrix `[rows × columns]` kept in its model file's own encoding and read in place from the file's
/// memory map (the native weights policy): the rows of one or more file tensors stacked (Q, K and V; gate and up),
/// each part keeping its own type — a Qwen2 file mixes q5_0, q8_0, q4_K and q6_K in one block.
public struct NativeMatrix: Sendable {
    /// One file tensor's rows, placed from `firstRow` on.
    public struct Part: Sendable {
        public let firstRow: Int
        public let rows: EncodedRows
    }

    public let rows: Int
    public let columns: Int
    public let parts: [Part]
    /// Keeps the memory the parts point into alive (the `GGUFFile` and its map).
    let owner: (any AnyObject & Sendable)?

    /// Stacks `parts` (each `[rows_i × columns]`) in order; `owner` must keep their bytes alive.
    public init(columns: Int, parts: [EncodedRows], owner: (any AnyObject & Sendable)?) {
        precondition(parts.allSatisfy { $0.columns == columns }, "NativeMatrix: parts differ in width")
        var placed = [Part](), first = 0
        for p in parts {
            placed.append(Part(firstRow: first, rows: p))
            first += p.rows
        }
        self.rows = first
        self.columns = columns
        self.parts = placed
        self.owner = owner
    }

    /// Bytes of the encoded weights.
    public var byteCount: Int { parts.reduce(0) { $0 + $1.rows.byteCount } }

    /// Writes rows `range` as fp32 (row `r` at `out + (r − range.lowerBound) · ldo`), the values the file
    /// dequantizer gives.
    public func decode(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>, ldo: Int) {
        for p in parts {
            let lo = max(range.lowerBound, p.firstRow), hi = min(range.upperBound, p.firstRow + p.rows.rows)
            guard lo < hi else { continue }
            let local = (lo - p.firstRow)..<(hi - p.firstRow), y = out + (lo - range.lowerBound) * ldo
            if CPUFeatures.hasAVX2 {
                RowDecoder.decode(p.rows, rows: local, into: y, ldo: ldo)
            } else {
                for r in local {
                    let bytes = UnsafeRawBufferPointer(start: p.rows.row(r), count: p.rows.bytesPerRow)
                    try! p.rows.type.dequantize(bytes, into: UnsafeMutableBufferPointer(start: y + (r - local.lowerBound) * ldo,
                                                                                         count: columns))
                }
            }
        }
    }

    /// Every value as fp32, row-major.
    public func decoded() -> FloatBuffer {
        let b = FloatBuffer(count: rows * columns)
        decode(rows: 0..<rows, into: b.pointer, ldo: columns)
        return b
    }
}
