import Foundation
/// A fixed-size fp32 buffer with a stable address, for weights and activations that hot loops and BLAS read
/// through raw pointers (no copy-on-write, no ARC traffic inside loops).
///
/// A reference type on purpose: a model's weights are shared, not copied; `copy()` makes an independent one
/// (e.g. the trainable copy of a block for tuning). A buffer may live on disk instead of in memory
/// (`init(count:onDiskIn:)`): the kernel pages it in and out as memory allows.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    /// Bytes mapped from a file (a buffer on disk), or 0 for heap memory.
    private let mappedBytes: Int

    /// A zero-filled buffer.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        mappedBytes = 0
    }

    /// A zero-filled buffer backed by a file in `directory` rather than by memory: the file is created, sized,
    /// mapped shared and removed from the directory at once, so its pages go to disk when memory is short and
    /// nothing is left behind however the process ends (its space is freed when the buffer is).
    public init(count: Int, onDiskIn directory: URL) throws {
        self.count = count
        let bytes = max(count, 1) * 4
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw BufferError("cannot create the folder \(directory.path) for a buffer on disk: \(error.localizedDescription)")
        }
        var template = Array(directory.appendingPathComponent("buffer-XXXXXX").path.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw BufferError("cannot create a file for a buffer on disk in \(directory.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        unlink(path)
        guard ftruncate(fd, off_t(bytes)) == 0 else {
            throw BufferError("cannot size a \(bytes)-byte buffer on disk in \(directory.path): \(String(cString: strerror(errno)))")
        }
        guard let base = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw BufferError("cannot map a \(bytes)-byte buffer on disk in \(directory.path): \(String(cString: strerror(errno)))")
        }
        pointer = base.bindMemory(to: Float.self, capacity: max(count, 1))
        mappedBytes = bytes
    }

    /// Whether the buffer lives on disk.
    public var isOnDisk: Bool { mappedBytes > 0 }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit {
        if mappedBytes > 0 {
            munmap(UnsafeMutableRawPointer(pointer), mappedBytes)
        } else {
            pointer.deallocate()
        }
    }

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

/// A buffer on disk could not be made (no space, no permission).
public struct BufferError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
