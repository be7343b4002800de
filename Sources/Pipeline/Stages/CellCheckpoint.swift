import Foundation
import ModelFormats

/// Progress inside running cells saved as JSON under `<results>/scratch/<kind>/<stage key>/<name>.json`, so that an
/// interrupted run continues where it stopped instead of starting the cells over. Written to a temporary name and
/// renamed; `pack` carries these files; the runner removes the file once the cells it covers are committed.
struct CellCheckpoint<Contents: Codable> {
    /// Seconds of work between two saves.
    static var interval: TimeInterval { 30 }

    let url: URL

    init(_ context: StageContext, kind: StageKind, name: String) {
        url = context.store.scratchDirectory(kind).appendingPathComponent("\(context.key)/\(name).json")
    }

    /// The saved contents; nil when there is no file or it does not decode.
    func load() -> Contents? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(Contents.self, from: data)
    }

    /// Whether a file is there (it may still not decode or not fit).
    var exists: Bool { FileManager.default.fileExists(atPath: url.path) }

    func save(_ contents: Contents) throws {
        try AtomicFile.write(JSONEncoder().encode(contents), to: url)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
