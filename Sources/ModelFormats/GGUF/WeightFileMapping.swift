#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A read-only memory map of a whole weight file (GGUF or safetensors); unmapped when released.
final class WeightFileMapping: @unchecked Sendable {
    /// Why a file could not be mapped, in words.
    struct Failure: Error { let reason: String }

    let url: URL
    /// The file's bytes (empty for an empty file). Valid while this object is alive.
    let bytes: UnsafeRawBufferPointer

    init(url: URL) throws(Failure) {
        self.url = url
        let path = url.path
        let fd = open(path, O_RDONLY | O_NONBLOCK)   // a FIFO must not block the open; fstat refuses it below
        guard fd >= 0 else {
            let e = errno
            throw Failure(reason: e == ENOENT ? "no such file" : "cannot open: \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw Failure(reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(reason: "not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw Failure(reason: "cannot memory-map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress, bytes.count > 0 {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}
