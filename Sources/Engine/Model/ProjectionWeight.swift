import ModelFormats
import QuantizedKernels

/// A projection matrix `[out × in]` (row-major, the GGUF/HF layout) as the engine multiplies by it: fp32 values, the
/// model file's own encoding read in place, or both.
///
/// - fp32 weights policy: `values`, and for q4_1/q8_0 tensors also `encoded`, which decode steps read with fp32
///   activations (`QuantizedMatMul`: the same weights, fewer bytes).
/// - native weights policy: `encoded` only; every product goes through `NativeMatMul`.
/// - trainable blocks and gradients: `values` only (they change).
public struct ProjectionWeight: Sendable {
    public var values: FloatBuffer?
    public var encoded: NativeMatrix?
    public let rows: Int
    public let columns: Int

    public init(values: FloatBuffer, rows: Int, columns: Int, encoded: NativeMatrix? = nil) {
        precondition(values.count == rows * columns, "ProjectionWeight: \(values.count) values for [\(rows) × \(columns)]")
        self.values = values
        self.encoded = encoded
        self.rows = rows
        self.columns = columns
    }

    public init(encoded: NativeMatrix) {
        values = nil
        self.encoded = encoded
        rows = encoded.rows
        columns = encoded.columns
    }

    /// Zero-filled fp32 values.
    public init(zeros rows: Int, _ columns: Int) {
        self.init(values: FloatBuffer(count: rows * columns), rows: rows, columns: columns)
    }

    /// Whether the weights exist only in the file's encoding.
    public var isNative: Bool { values == nil }

    /// Number of weights.
    public var count: Int { rows * columns }

    /// The fp32 values' address. Only for weights that have them (fp32 policy, trainable blocks, gradients).
    public var pointer: UnsafeMutablePointer<Float> {
        guard let values else { preconditionFailure("ProjectionWeight: native weights have no fp32 values; decode them first") }
        return values.pointer
    }

    /// Bytes held in memory: fp32 values plus the encoded rows (mapped from the file).
    public var fp32Bytes: Int { values == nil ? 0 : count * 4 }
    public var encodedBytes: Int { encoded?.byteCount ?? 0 }

    /// An independent fp32 copy (native weights decoded), with no encoded form: its values may change.
    public func fp32Copy() -> ProjectionWeight {
        ProjectionWeight(values: values?.copy() ?? encoded!.decoded(), rows: rows, columns: columns)
    }

    /// Every value as fp32, row-major.
    public var array: [Float] { values?.array ?? encoded!.decoded().array }

    /// `n` values from `offset` (row-major), decoding native rows as needed.
    public func slice(_ offset: Int, _ n: Int) -> [Float] {
        if let values { return values.slice(offset, n) }
        let first = offset / columns, last = (offset + n + columns - 1) / columns
        let rowsBuffer = FloatBuffer(count: (last - first) * columns)
        encoded!.decode(rows: first..<last, into: rowsBuffer.pointer, ldo: columns)
        return rowsBuffer.slice(offset - first * columns, n)
    }

    /// Writes row `r` as fp32 (an embedding lookup).
    @inline(__always)
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if let values {
            out.update(from: values.pointer + r * columns, count: columns)
        } else {
            encoded!.decode(rows: r..<(r + 1), into: out, ldo: columns)
        }
    }
}
