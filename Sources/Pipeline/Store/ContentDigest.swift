import Foundation
import ModelFormats
#if canImport(Glibc)
import Glibc
#endif

/// The SHA-256 of what a file or directory holds: the content half of every cache key (docs/RESULTS.md, "How a
/// stage's key is computed"). A directory's digest is that of its files' relative paths and digests, sorted. Only
/// regular files and directories are hashed: a device or FIFO (`/dev/zero`) is refused instead of read forever.
public enum ContentDigest {
    /// The digest of bytes already read.
    public static func of(_ data: Data) -> String { Hashing.sha256Hex(data) }

    /// The digest of `url` computed now from its bytes (no cache).
    public static func of(_ url: URL, what: String) throws -> String {
        switch InputFile.kind(of: url) {
        case .regularFile?:
            return try Hashing.sha256Hex(fileAt: url)
        case .directory?:
            let base = url.standardizedFileURL.path
            var lines: [String] = []
            let files = FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? []
            for relative in files.sorted() {
                let child = URL(fileURLWithPath: base).appendingPathComponent(relative)
                if case .directory? = InputFile.kind(of: child) { continue }
                lines.append("\(relative)\t\(try of(child, what: "\(what) (file \(relative))"))")
            }
            return Hashing.sha256Hex(lines.joined(separator: "\n"))
        case let other?:
            throw StoreError("cannot hash \(what) at \(url.path): expected a regular file or a directory, found \(other.name)")
        case nil:
            throw StoreError("cannot hash \(what) at \(url.path): no such file")
        }
    }

    /// What identifies one version of a file on this machine without reading it: device, inode, size, and the
    /// modification and status-change times in nanoseconds (`token`); and the status-change time in seconds.
    /// Editing a file in place and restoring its size and modification time (`touch -r`) still changes its
    /// status-change time, which no user can set.
    static func identity(of url: URL) -> (token: String, changed: Double)? {
        var info = stat()
        guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        func ns(_ t: timespec) -> Int { t.tv_sec * 1_000_000_000 + t.tv_nsec }
        return ("\(info.st_dev):\(info.st_ino):\(info.st_size):\(ns(info.st_mtim)):\(ns(info.st_ctim))",
                Double(info.st_ctim.tv_sec) + Double(info.st_ctim.tv_nsec) / 1e9)
    }

    /// A digest is cached only for a file unchanged for this many seconds: an edit within the same tick of the
    /// file-system clock as the hashing could otherwise leave the status-change time as it was (the "racily
    /// clean" case git also guards against).
    static let settledAfter: Double = 2
}

/// A file or directory whose bytes, read by a stage, differ from the ones its cache key was computed from (it
/// was edited after the run was planned). Nothing is stored under the old key.
public struct ContentChangedError: Error, Sendable, CustomStringConvertible {
    public var what: String
    public var path: String
    public var expected: String
    public var found: String

    public var description: String {
        "\(what) \(path) changed after the run was planned: the stage's key was computed from sha256 \(expected), "
            + "the bytes read now have sha256 \(found); nothing was stored under the old key — run again to plan "
            + "it with the new content"
    }
}
