import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file reptune is asked to read (a model, a dataset, a manifest, a vector, a chat): checked before any byte is
/// read, so a device (`/dev/zero`), a FIFO or a socket is refused at once instead of being read forever, and a
/// regular file larger than what its reader expects is refused with its size instead of exhausting memory.
public enum InputFile {
    /// What is at a path.
    public enum Kind: Sendable, Equatable {
        case regularFile(bytes: Int)
        case directory
        /// Anything else: a character or block device, a FIFO, a socket.
        case other(String)

        /// The kind in words, for errors ("a character device").
        public var name: String {
            switch self {
            case .regularFile: "a regular file"
            case .directory: "a directory"
            case .other(let name): name
            }
        }
    }

    /// The kind of `url` (symbolic links followed), or nil when nothing is there.
    public static func kind(of url: URL) -> Kind? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regularFile(bytes: Int(info.st_size))
        case S_IFDIR: return .directory
        case S_IFCHR: return .other("a character device")
        case S_IFBLK: return .other("a block device")
        case S_IFIFO: return .other("a FIFO")
        case S_IFSOCK: return .other("a socket")
        default: return .other("a special file")
        }
    }

    /// Checks that `url` is a regular file of at most `maxBytes` (or, when `directoryAllowed`, a directory) and
    /// returns its kind; `what` names it in the error ("the model", "dataset facts").
    @discardableResult
    public static func check(_ url: URL, what: String, directoryAllowed: Bool = false,
                             maxBytes: Int = Int.max) throws(InputFileError) -> Kind {
        let expected = directoryAllowed ? "a regular file or a directory" : "a regular file"
        guard let kind = kind(of: url) else {
            throw InputFileError(path: url.path, what: what, expected: expected, found: "no such file")
        }
        switch kind {
        case .regularFile(let bytes) where bytes > maxBytes:
            throw InputFileError(path: url.path, what: what, expected: "\(expected) of at most \(describe(bytes: maxBytes))",
                                 found: "\(describe(bytes: bytes))")
        case .regularFile: return kind
        case .directory where directoryAllowed: return kind
        default: throw InputFileError(path: url.path, what: what, expected: expected, found: kind.name)
        }
    }

    /// The bytes of the regular file `url` after `check(_:what:maxBytes:)`.
    public static func read(_ url: URL, what: String, maxBytes: Int) throws(InputFileError) -> Data {
        try check(url, what: what, maxBytes: maxBytes)
        do {
            return try Data(contentsOf: url)
        } catch {
            throw InputFileError(path: url.path, what: what, expected: "a readable file",
                                 found: "it cannot be read (\(String(cString: strerror(errno))))")
        }
    }

    /// `1.5 GiB`, `12 MiB`, `300 bytes`.
    public static func describe(bytes: Int) -> String {
        if bytes >= 1 << 30 { return String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
        if bytes >= 1 << 20 { return "\(bytes >> 20) MiB" }
        return "\(bytes) bytes"
    }

    /// Size limits of the readers (a file above one is refused before it is read).
    public enum Limit {
        /// Manifests, chats, JSON vectors, split index files, configs.
        public static let smallText = 256 << 20
        /// Dataset files read whole (CSV, text, JSON).
        public static let dataset = 2 << 30
    }
}

/// A path that is not the kind of file a reader needs: missing, a device or FIFO, a directory, or too large.
public struct InputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// What the file was meant to be ("the model", "--steer").
    public var what: String
    public var expected: String
    public var found: String

    public init(path: String, what: String, expected: String, found: String) {
        self.path = path
        self.what = what
        self.expected = expected
        self.found = found
    }

    public var description: String { "\(what) \(path): expected \(expected), found \(found)" }
}
