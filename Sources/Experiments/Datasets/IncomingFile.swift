import Foundation
import ModelFormats

/// A dataset file on its way into a mirror: written under `<mirror>/.incoming/`, hashed as it is written, and
/// renamed to its place only when its size and sha256 are the descriptor's; otherwise removed. A mirror therefore
/// never holds a partial or a wrong file, and a dataset's folder (hashed whole for a folder dataset) never holds a
/// temporary one. A process killed mid-transfer leaves its file under `.incoming/`; the next fetch removes it.
final class IncomingFile {
    static let folder = ".incoming"

    let target: URL
    let temporary: URL
    private let expected: DatasetFileDescriptor
    private let handle: FileHandle
    private var hasher = SHA256()
    private var count = 0

    init(_ file: DatasetFileDescriptor, into mirror: DatasetMirror) throws(DatasetError) {
        expected = file
        target = mirror.url(for: file)
        let incoming = mirror.root.appendingPathComponent(Self.folder)
        temporary = incoming.appendingPathComponent("\(getpid())-\(UUID().uuidString)-\(target.lastPathComponent)")
        do {
            try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: target.path, reason: error.localizedDescription)
        }
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary.path) else {
            throw .cannotWrite(path: target.path, reason: "cannot create a file in \(incoming.path)")
        }
        self.handle = handle
    }

    /// Appends a piece; refuses one that would make the file longer than the descriptor's size.
    func append(_ data: Data) throws {
        guard count + data.count <= expected.bytes else {
            throw Oversized(limit: expected.bytes)
        }
        try handle.write(contentsOf: data)
        hasher.update(data)
        count += data.count
    }

    /// Renames the file into place if it has the descriptor's size and sha256; otherwise removes it and throws.
    func commit(source: String) throws(DatasetError) {
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw .cannotWrite(path: target.path, reason: error.localizedDescription)
        }
        let found = hasher.finalizeHex()
        guard count == expected.bytes else {
            throw .fetchFailed(path: target.path, source: source, reason: "got \(count) bytes, expected \(expected.bytes)")
        }
        guard found == expected.sha256.lowercased() else {
            throw .fetchedMismatch(path: target.path, source: source, expected: expected.sha256.lowercased(), found: found)
        }
        do { try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: target.path, reason: error.localizedDescription)
        }
        guard rename(temporary.path, target.path) == 0 else {
            throw .cannotWrite(path: target.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Removes the temporary file (a failed transfer).
    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: temporary)
    }

    /// Removes what killed processes left under `<mirror>/.incoming/` (files whose process id is not running).
    static func removeStale(in mirror: DatasetMirror) {
        let incoming = mirror.root.appendingPathComponent(folder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: incoming.path) else { return }
        for name in names {
            guard let pid = Int32(name.prefix { $0 != "-" }), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: incoming.appendingPathComponent(name))
        }
    }

    /// Removes `<mirror>/.incoming/` when nothing is left in it.
    static func removeFolderIfEmpty(in mirror: DatasetMirror) {
        let incoming = mirror.root.appendingPathComponent(folder)
        if (try? FileManager.default.contentsOfDirectory(atPath: incoming.path))?.isEmpty == true {
            try? FileManager.default.removeItem(at: incoming)
        }
    }

    /// More bytes arrived than the descriptor's size.
    struct Oversized: Error, CustomStringConvertible {
        var limit: Int
        var description: String { "the source sent more than the \(limit) bytes expected" }
    }
}
