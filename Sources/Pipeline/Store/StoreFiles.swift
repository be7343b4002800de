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

    /// SHA-256 of a file or directory's content (`ContentDigest`). A regular file's digest is cached in the database
    /// by path and `ContentDigest.identity` (device, inode, size, modification and status-change times), so a large
    /// model is hashed once yet any edit — even one that restores the size and modification time — is hashed
    /// again; directories are always hashed from their files. A read-only store reads the cache without writing it.
    public func digest(of url: URL, what: String = "file") throws -> String {
        guard let identity = ContentDigest.identity(of: url) else { return try ContentDigest.of(url, what: what) }
        let path = url.resolvingSymlinksInPath().standardizedFileURL.path
        if let sha = try cachedDigest(of: url) { return sha }
        let sha = try ContentDigest.of(url, what: what)
        if !isReadOnly, ContentDigest.identity(of: url)?.token == identity.token,
           Store.now - identity.changed > ContentDigest.settledAfter {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            try db.run("""
                INSERT OR REPLACE INTO file_digests (path, size, mtime, sha256, hashed_at, identity) VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(path), .integer(Int64((attributes[.size] as? NSNumber)?.intValue ?? 0)),
                      .real((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0), .text(sha), .real(Store.now),
                      .text(identity.token)])
        }
        return sha
    }

    /// The cached digest of `url` when the file is still the version that was hashed (same identity), else nil.
    public func cachedDigest(of url: URL) throws -> String? {
        guard hasDigestIdentity, let identity = ContentDigest.identity(of: url) else { return nil }
        let path = url.resolvingSymlinksInPath().standardizedFileURL.path
        guard let r = try db.query("SELECT identity, sha256 FROM file_digests WHERE path = ?", [.text(path)]).first,
              r[0].string == identity.token else { return nil }
        return r[1].string
    }

    /// Drops the cached digest of `url` (its content was found changed when a stage read it).
    public func forgetDigest(of url: URL) throws {
        guard !isReadOnly else { return }
        try db.run("DELETE FROM file_digests WHERE path = ?", [.text(url.resolvingSymlinksInPath().standardizedFileURL.path)])
    }

    /// Whether the digest cache has its identity column (stores older than schema 2 opened read-only have not).
    var hasDigestIdentity: Bool { schemaVersion >= 2 }
}
