import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Writes `data` as an artifact: to a temporary file in `artifacts/tmp`, then renamed to
    /// `artifacts/<first two hex digits>/<sha256>`, so a reader never sees a partial file. Identical content is
    /// stored once. The reference is recorded in the database when the cell that produced it is committed.
    public func writeArtifact(_ data: Data) throws -> ArtifactRef {
        try writeArtifact { try data.write(to: $0) }
    }

    /// Writes an artifact through `produce`, which must fill the file at the URL it is given (for large outputs
    /// written in pieces); hashing, naming and the atomic rename are done here.
    public func writeArtifact(_ produce: (URL) throws -> Void) throws -> ArtifactRef {
        let tmpDir = artifactsDirectory.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmpDir, withIntermediateDirectories: true)
        let tmp = tmpDir.appendingPathComponent("\(UUID().uuidString).part")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try produce(tmp)
        let fd = open(tmp.path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        let sha = try Hashing.sha256Hex(fileAt: tmp)
        let bytes = try Self.fileSize(tmp)
        let relative = "artifacts/\(sha.prefix(2))/\(sha)"
        let final = directory.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: final.path) {
            guard rename(tmp.path, final.path) == 0 else {
                throw StoreError("cannot rename \(tmp.path) to \(final.path): \(String(cString: strerror(errno)))")
            }
        }
        return ArtifactRef(sha256: sha, bytes: bytes, path: relative)
    }

    public func artifactURL(_ ref: ArtifactRef) -> URL { directory.appendingPathComponent(ref.path) }

    /// Where cells of `kind` keep their progress while they run (`scratch/<kind>/<stage key>/…`): tuning
    /// checkpoints, perplexity running sums, sweep blocks' answers so far.
    public func scratchDirectory(_ kind: StageKind) -> URL { Self.scratchDirectory(kind, in: directory) }

    /// `scratchDirectory(kind)` of the results directory `directory` (e.g. a pack being assembled).
    static func scratchDirectory(_ kind: StageKind, in directory: URL) -> URL {
        directory.appendingPathComponent("scratch/\(kind.rawValue)")
    }

    /// Size in bytes of the file at `url`.
    static func fileSize(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Reads an artifact back, checking its size and sha256.
    public func readArtifact(_ ref: ArtifactRef) throws -> Data {
        let url = artifactURL(ref)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw StoreError("artifact \(ref.sha256) is missing: \(url.path)")
        }
        guard data.count == ref.bytes, Hashing.sha256Hex(data) == ref.sha256 else {
            throw StoreError("artifact \(url.path) is corrupt: expected \(ref.bytes) bytes with sha256 \(ref.sha256), found \(data.count) bytes with sha256 \(Hashing.sha256Hex(data))")
        }
        return data
    }

    /// SHA-256 of a file (or of a directory: of its files' relative paths and digests, sorted), cached in the
    /// database by path, size and modification time so that a large model is hashed once.
    public func digest(of url: URL) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw StoreError("cannot hash \(url.path): no such file")
        }
        if isDirectory.boolValue {
            let base = url.standardizedFileURL.path
            var lines: [String] = []
            let files = FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? []
            for relative in files.sorted() {
                let child = URL(fileURLWithPath: base).appendingPathComponent(relative)
                var childIsDir: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: child.path, isDirectory: &childIsDir)
                if !childIsDir.boolValue { lines.append("\(relative)\t\(try digest(of: child))") }
            }
            return Hashing.sha256Hex(lines.joined(separator: "\n"))
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let path = url.resolvingSymlinksInPath().standardizedFileURL.path
        if let r = try db.query("SELECT size, mtime, sha256 FROM file_digests WHERE path = ?", [.text(path)]).first,
           r[0].int == size, r[1].double == mtime, let sha = r[2].string {
            return sha
        }
        let sha = try Hashing.sha256Hex(fileAt: url)
        try db.run("INSERT OR REPLACE INTO file_digests (path, size, mtime, sha256, hashed_at) VALUES (?, ?, ?, ?, ?)",
                   [.text(path), .integer(Int64(size)), .real(mtime), .text(sha), .real(Store.now)])
        return sha
    }
}
