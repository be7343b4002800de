import Foundation
import ModelFormats

/// `reptune pack`: a self-contained copy of a results directory small enough to commit or send — the database as
/// one transactional snapshot (`VACUUM INTO`, in rollback-journal mode, so it is a single file), the artifact files
/// up to a size limit, and the saved progress of unfinished perplexity cells and sweep blocks.
///
/// The copy is a store like any other: `report`, `query`, `status` read it, and `run`/`resume` continue in it.
/// Cells that were in flight are handed back as pending and running runs are marked interrupted, so the copy never
/// claims work for a process on this machine. An artifact left out is computed again only when a stage that runs
/// reads it (`PlannedStage.Action.restore`); reports read stored numbers only.
public enum StorePack {
    /// What a pack copied and left out.
    public struct Report: Sendable, Hashable, CustomStringConvertible {
        public var databaseBytes = 0
        public var artifactsCopied = 0
        public var artifactBytesCopied = 0
        /// Artifacts over the limit, by path relative to the results directory.
        public var artifactsLeftOut: [String] = []
        public var artifactBytesLeftOut = 0
        /// Progress files of unfinished cells (perplexity running sums, sweep blocks' answers so far).
        public var scratchFilesCopied = 0

        public init() {}

        public var description: String {
            func mib(_ b: Int) -> String { String(format: "%.1f MiB", Double(b) / 1_048_576) }
            var text = "database \(mib(databaseBytes)); \(artifactsCopied) artifact\(artifactsCopied == 1 ? "" : "s") copied (\(mib(artifactBytesCopied)))"
            if !artifactsLeftOut.isEmpty {
                text += ", \(artifactsLeftOut.count) left out (\(mib(artifactBytesLeftOut)); recomputed if a stage that runs needs them)"
            }
            if scratchFilesCopied > 0 {
                text += "; progress of \(scratchFilesCopied) unfinished cell\(scratchFilesCopied == 1 ? "" : "s") (perplexity sums, sweep blocks)"
            }
            return text
        }
    }

    /// Packs `source` into `destination`, replacing it whole: the pack is assembled beside it under a temporary name
    /// and renamed into place, so an interrupted pack leaves the previous one intact.
    @discardableResult
    public static func pack(_ source: Store, to destination: URL, maxArtifactBytes: Int) throws -> Report {
        let fm = FileManager.default
        let target = destination.standardizedFileURL
        guard target.path != source.directory.path else {
            throw StoreError("pack: the destination \(target.path) is the results directory itself")
        }
        // The pack replaces its destination whole: only nothing, an empty directory or an earlier pack may be there.
        switch InputFile.kind(of: target) {
        case nil: break
        case .directory?:
            let entries = (try? fm.contentsOfDirectory(atPath: target.path)) ?? []
            guard entries.isEmpty || entries.contains(Store.databaseName) else {
                throw StoreError("pack: \(target.path) exists and is not a pack (no \(Store.databaseName) in it); the pack replaces its destination whole, so give a new or empty folder")
            }
        case let other?:
            throw StoreError("pack: --out \(target.path) is \(other.name), not a folder")
        }
        let parent = target.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        defer { try? fm.removeItem(at: staging) }

        var report = Report()
        let database = staging.appendingPathComponent(Store.databaseName)
        try source.db.run("VACUUM INTO ?", [.text(database.path)])
        do {
            let copy = try SQLiteConnection(path: database.path)
            try copy.transaction {
                try copy.run("""
                    UPDATE cells SET status = 'pending', claimed_by = NULL, claimed_pid = NULL, claimed_host = NULL,
                    claimed_at = NULL WHERE status = 'running'
                    """)
                try copy.run("UPDATE stages SET status = 'pending' WHERE status = 'running'")
                try copy.run("UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, ?) WHERE status = 'running'",
                             [.real(Date().timeIntervalSince1970)])
                // Digests are cached by absolute path and mtime, which mean nothing on another machine.
                try copy.run("DELETE FROM file_digests")
            }
            try copy.execute("PRAGMA journal_mode=DELETE")
            try copy.execute("VACUUM")
        }
        report.databaseBytes = try Store.fileSize(database)

        for row in try source.db.query("SELECT path, bytes FROM artifacts ORDER BY path") {
            guard let path = row[0].string else { continue }
            let bytes = row[1].int ?? 0
            let from = source.directory.appendingPathComponent(path)
            guard fm.fileExists(atPath: from.path) else { continue }
            if bytes > maxArtifactBytes {
                report.artifactsLeftOut.append(path)
                report.artifactBytesLeftOut += bytes
                continue
            }
            let to = staging.appendingPathComponent(path)
            try fm.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: from, to: to)
            report.artifactsCopied += 1
            report.artifactBytesCopied += bytes
        }

        // The small progress files of unfinished cells (kinds whose checkpoints are `packed`; tuning checkpoints hold
        // whole models and collected activations whole matrices, and stay behind).
        for kind in StageDeclaration.all.filter(\.progress.packed).map(\.kind) {
            let scratch = source.scratchDirectory(kind)
            for relative in (fm.enumerator(atPath: scratch.path)?.compactMap { $0 as? String } ?? []).sorted()
            where relative.hasSuffix(".json") {
                let to = Store.scratchDirectory(kind, in: staging).appendingPathComponent(relative)
                try fm.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.copyItem(at: scratch.appendingPathComponent(relative), to: to)
                report.scratchFilesCopied += 1
            }
        }

        // Swap in: the old pack moves aside, the new one takes its name, the old one goes.
        let old = parent.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).old")
        let hadOld = fm.fileExists(atPath: target.path)
        if hadOld { try fm.moveItem(at: target, to: old) }
        do {
            try fm.moveItem(at: staging, to: target)
        } catch {
            if hadOld { try? fm.moveItem(at: old, to: target) }
            throw StoreError("pack: cannot move the new pack to \(target.path): \(error)")
        }
        if hadOld { try? fm.removeItem(at: old) }
        return report
    }
}
