import Foundation

/// Atomic file output: write to a temporary file beside the destination, flush, then rename it into place, so a
/// reader sees the old file or the new one, never a partial write (weights, vectors, artifacts, reports).
public enum AtomicFile {
    /// Why writing failed, in words.
    public struct Failure: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Creates a temporary file beside `url`, lets `body` fill it, then renames it over `url`. On any failure the
    /// temporary file is removed; errors thrown by `body` are passed through unchanged. Only a regular file is
    /// replaced: a directory, device or FIFO at `url` (`--out /dev/zero`) is refused, never renamed over.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        switch InputFile.kind(of: url) {
        case nil, .regularFile?: break
        case let other?: throw Failure(reason: "refusing to write \(url.path): it is \(other.name), not a regular file")
        }
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw Failure(reason: "cannot create a temporary file in \(directory.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary.path, url.path) == 0 else {
                throw Failure(reason: "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Writes `data` atomically, creating the destination directory if needed.
    public static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try write(to: url) { try $0.write(contentsOf: data) }
    }
}
