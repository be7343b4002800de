/// A fixed-size fp32 buffer with a stable address, for weights and activations that hot loops and BLAS read
/// through raw pointers (no copy-on-write, no ARC traffic inside loops).
///
/// A reference type on purpose: a model's weights are shared, not copied; `copy()` makes an independent one
/// (e.g. the trainable copy of a block for tuning).
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// A zero-filled buffer.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public func copy() -> FloatBuffer {
        let c = FloatBuffer(count: count)
        c.pointer.update(from: pointer, count: count)
        return c
    }

    /// A copy of `n` values starting at `offset`.
    public func slice(_ offset: Int, _ n: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer + offset, count: n))
    }
}
