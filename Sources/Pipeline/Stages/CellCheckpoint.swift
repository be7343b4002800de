import Foundation
import ModelFormats

/// A long cell's saved progress: one file under `<results>/scratch/<kind>/<stage key>/<name>`, so that an
/// interrupted run continues where it stopped instead of starting the cell over. Every long cell keeps its progress
/// through one of these — JSON contents for small state (`loadJSON`, `json`), or a file the runner writes itself for
/// large state (tuning's training state, collected activations), always to a temporary name and renamed — and
/// saves on the same clock (`reached`): every `interval` seconds of work, after every unit that took `longUnit`
/// seconds or more (so that a run stopped by force loses at most one unit), and when the run is cancelled. The
/// runner removes the file once the cell is committed; `pack` carries the files of kinds whose `ProgressPolicy` is
/// `packed`.
struct CellCheckpoint {
    /// Seconds of work between two saves, for every long cell (a tuning checkpoint of SmolLM2's 7 blocks with its
    /// AdamW moments is ≈ 300 MB, and collected activations up to a few hundred MB: not every step).
    static let interval: TimeInterval = 60

    /// A unit of work at least this long is saved as soon as it is done: a Ctrl-C stops the run within
    /// `CancellationFlag.forceAfter` seconds even in the middle of such a unit.
    static let longUnit: TimeInterval = 5

    let url: URL
    private var lastSave = Date()
    private var lastUnit = Date()

    init(_ context: StageContext, name: String) {
        url = context.store.scratchDirectory(context.stage.kind).appendingPathComponent("\(context.key)/\(name)")
    }

    /// Whether a file is there (it may still not decode or not fit).
    var exists: Bool { FileManager.default.fileExists(atPath: url.path) }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Called between two units of work (a window, a prompt batch, a training step), with `save` writing the
    /// progress so far to the URL it gets. After Ctrl-C: saves (when `hasNew`, i.e. something was done since the
    /// last save or the resume), logs `done` and throws `StageCancelled`. Otherwise saves once `interval` seconds have
    /// passed since the last save, or when the unit just done took `longUnit` seconds or more.
    mutating func reached(_ context: StageContext, done: @autoclosure () -> String, hasNew: Bool = true,
                          save: (URL) throws -> Void) throws {
        func write() throws {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try save(url)
        }
        if context.isCancelled {
            if hasNew {
                try write()
                context.log("\(done()); progress saved in \(url.lastPathComponent)")
            }
            throw StageCancelled()
        }
        let now = Date(), unit = now.timeIntervalSince(lastUnit)
        lastUnit = now
        if hasNew, now.timeIntervalSince(lastSave) >= Self.interval || unit >= Self.longUnit {
            try write()
            lastSave = Date()
        }
    }

    /// The saved JSON contents when they decode and `fit` this cell; nil otherwise. A file that is there but does not
    /// fit (another cell's shape, a damaged file) is removed, with a note naming it and what the cell `expected`.
    func restore<Contents: Decodable>(_ type: Contents.Type, _ context: StageContext, expected: @autoclosure () -> String,
                                      fits: (Contents) -> Bool) -> Contents? {
        guard exists else { return nil }
        if let saved = loadJSON(type), fits(saved) { return saved }
        context.log("starting over: \(url.path) does not fit this cell (expected \(expected()))")
        remove()
        return nil
    }

    /// The saved JSON contents; nil when there is no file or it does not decode.
    func loadJSON<Contents: Decodable>(_ type: Contents.Type) -> Contents? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(Contents.self, from: data)
    }

    /// A `save` writing `contents` as JSON.
    static func json<Contents: Encodable>(_ contents: Contents) -> (URL) throws -> Void {
        { try AtomicFile.write(JSONEncoder().encode(contents), to: $0) }
    }
}
