import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The database as the workers of one stage read it: a consistent copy the coordinator writes with `VACUUM INTO`
/// (`snapshots/<stage key>.sqlite`: a temporary name, then a rename) before it hands out the stage's first units
/// (retries reuse it), and that workers open immutable — no lock, journal, WAL or shared memory — so that no worker ever opens the live
/// database, whose WAL SQLite does not support across the hosts of a network file system. It holds all a worker reads
/// from the database: the run and its manifest, the planned stages, the inputs' cells, generations and artifact
/// references, the digest cache. The coordinator removes it when the stage is settled.
enum StoreSnapshot {
    static func url(stageKey: String, in directory: URL) -> URL {
        directory.appendingPathComponent("snapshots/\(stageKey).sqlite")
    }

    /// Writes (or replaces) the snapshot of `store` for the units of `stageKey`.
    static func write(_ store: Store, stageKey: String) throws {
        let url = url(stageKey: stageKey, in: store.directory)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(stageKey).\(getpid()).tmp")
        try? FileManager.default.removeItem(at: temporary)
        do {
            _ = try store.db.run("VACUUM INTO ?", [.text(temporary.path)])
            guard rename(temporary.path, url.path) == 0 else {
                throw StoreError("cannot rename \(temporary.path) to \(url.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// The store a worker reads for a unit of `stageKey`: the stage's snapshot when the coordinator wrote one, else
    /// (a coordinator of an older reptune) the live database, read-only.
    static func open(stageKey: String, in directory: URL) throws -> Store {
        let snapshot = url(stageKey: stageKey, in: directory)
        return try Store(readOnlyDirectory: directory, snapshot: FileManager.default.fileExists(atPath: snapshot.path) ? snapshot : nil)
    }

    static func remove(stageKey: String, in directory: URL) {
        try? FileManager.default.removeItem(at: url(stageKey: stageKey, in: directory))
    }
}
