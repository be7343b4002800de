import CPrefetch
import ModelFormats

/// Rows of a weight matrix in a model file's own encoding, read where they lie (a file's memory map, or any
/// buffer that outlives the view): `rows` rows of `columns` weights of `type`, each row `bytesPerRow` bytes.
/// The kernels of this module read weights only through this view.
public struct EncodedRows: @unchecked Sendable, Equatable {
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    public let base: UnsafeRawPointer

    /// Types with a kernel here: every type `GGMLType.canDequantize` names.
    public static func hasKernel(_ type: GGMLType) -> Bool { type.canDequantize }

    /// The view, or a reason in words when `type` has no kernel, `columns` is not a whole number of its blocks,
    /// or `bytes` is shorter than `rows` full rows (a truncated block).
    public static func make(type: GGMLType, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer) -> Result<EncodedRows, Failure> {
        guard hasKernel(type) else { return .failure(.noKernel(type)) }
        guard columns > 0, columns % type.blockSize == 0 else { return .failure(.partialBlock(type, columns: columns)) }
        let needed = rows * (columns / type.blockSize * type.bytesPerBlock)
        guard bytes.count >= needed, let base = bytes.baseAddress ?? (needed == 0 ? UnsafeRawPointer(bitPattern: 1) : nil) else {
            return .failure(.truncated(type, needed: needed, found: bytes.count))
        }
        return .success(EncodedRows(type: type, rows: rows, columns: columns, base: base))
    }

    private init(type: GGMLType, rows: Int, columns: Int, base: UnsafeRawPointer) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.base = base
    }

    public var bytesPerRow: Int { columns / type.blockSize * type.bytesPerBlock }
    public var byteCount: Int { rows * bytesPerRow }

    /// Blocks per row.
    public var blocksPerRow: Int { columns / type.blockSize }

    /// The first byte of row `r`.
    @inline(__always)
    public func row(_ r: Int) -> UnsafeRawPointer { base + r * bytesPerRow }

    /// Prefetches the row about 2 KiB after row `r` (when it is before `end`), line by line: a kernel streaming rows
    /// calls it before each row so the next rows' loads are in flight while it computes (measured on q4_1 rows
    /// streaming from memory: 1.5–2× the bytes per second of the hardware prefetcher alone).
    @inline(__always)
    public func prefetch(after r: Int, before end: Int) {
        let ahead = max(1, 2048 / max(1, bytesPerRow))
        guard r + ahead < end else { return }
        let next = row(r + ahead)
        for l in 0..<((bytesPerRow + 63) / 64) { reptune_prefetch(next + 64 * l) }
    }

    /// Why rows cannot be viewed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noKernel(GGMLType)
        case partialBlock(GGMLType, columns: Int)
        case truncated(GGMLType, needed: Int, found: Int)

        public var description: String {
            switch self {
            case .noKernel(let t):
                "type \(t.name) has no kernel in reptune (supported: "
                    + GGMLType.allCases.filter(\.canDequantize).map(\.name).joined(separator: ", ") + ")"
            case .partialBlock(let t, let columns):
                "a row of \(columns) weights is not a whole number of \(t.name) blocks of \(t.blockSize)"
            case .truncated(let t, let needed, let found):
                "\(t.name) data is truncated: \(needed) bytes needed, \(found) present"
            }
        }
    }
}
