import Foundation

/// `reptune gc`: forgets superseded results and deletes artifact files nothing references.
///
/// Kept: every stage referenced by the latest run of each manifest name (or by every run with `keepAllRuns`).
/// Dropped: older runs, stages only they referenced (with their cells, metrics and generations), artifact rows no
/// remaining cell references, files under `artifacts/` with no row (left by crashes between writing a file
/// and committing its cell), and the saved progress (`scratch/<kind>/<stage key>/`) of stages the store no longer
/// has. Refuses while a run is in progress in a live process.
public enum GarbageCollector {
    public struct Report: Sendable, Hashable, CustomStringConvertible {
        public var runsRemoved = 0
        public var stagesRemoved = 0
        public var filesRemoved = 0
        public var bytesFreed = 0
        /// Folders of saved progress of forgotten stages.
        public var progressFoldersRemoved = 0

        public init() {}

        public var description: String {
            "removed \(runsRemoved) old run\(runsRemoved == 1 ? "" : "s"), \(stagesRemoved) stage\(stagesRemoved == 1 ? "" : "s"), "
                + "\(filesRemoved) artifact file\(filesRemoved == 1 ? "" : "s") (\(bytesFreed) bytes)"
                + (progressFoldersRemoved == 0 ? "" : ", the saved progress of \(progressFoldersRemoved) forgotten stage\(progressFoldersRemoved == 1 ? "" : "s")")
        }
    }

    public static func collect(_ store: Store, keepAllRuns: Bool = false) throws -> Report {
        try store.markGoneRunsInterrupted()
        if let r = try store.runs().first(where: { $0.status == "running" }) {
            throw StoreError("run \(r.id) (\(r.process.map { "\($0)" } ?? "another process")) is still running on \(store.directory.path); try gc when it is done")
        }
        var report = Report()
        let (referenced, stageKeys): (Set<String>, Set<String>) = try store.db.transaction {
            if !keepAllRuns {
                report.runsRemoved = try store.db.run("DELETE FROM runs WHERE id NOT IN (SELECT max(id) FROM runs GROUP BY manifest_name)")
            }
            try store.db.run("DELETE FROM run_stages WHERE run_id NOT IN (SELECT id FROM runs)")
            let orphanStages = "SELECT key FROM stages WHERE key NOT IN (SELECT stage_key FROM run_stages)"
            for table in ["metrics", "generations", "cell_artifacts", "cells"] {
                try store.db.run("DELETE FROM \(table) WHERE stage_key IN (\(orphanStages))")
            }
            report.stagesRemoved = try store.db.run("DELETE FROM stages WHERE key NOT IN (SELECT stage_key FROM run_stages)")
            try store.db.run("DELETE FROM artifacts WHERE sha256 NOT IN (SELECT sha256 FROM cell_artifacts)")
            return (Set(try store.db.query("SELECT sha256 FROM artifacts").compactMap { $0[0].string }),
                    Set(try store.db.query("SELECT key FROM stages").compactMap { $0[0].string }))
        }
        let root = store.artifactsDirectory
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        for relative in files {
            let url = root.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if relative.hasPrefix("tmp/") || !referenced.contains(url.lastPathComponent) {
                let bytes = (try? Store.fileSize(url)) ?? 0
                try FileManager.default.removeItem(at: url)
                report.filesRemoved += 1
                report.bytesFreed += bytes
            }
        }
        // Saved progress lives in scratch/<kind>/<stage key>/; a folder whose stage is gone can never be resumed.
        let scratch = store.directory.appendingPathComponent("scratch")
        for kind in (try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? [] {
            let kindDirectory = scratch.appendingPathComponent(kind)
            for key in (try? FileManager.default.contentsOfDirectory(atPath: kindDirectory.path)) ?? [] where !stageKeys.contains(key) {
                var isDirectory: ObjCBool = false
                let folder = kindDirectory.appendingPathComponent(key)
                guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                try FileManager.default.removeItem(at: folder)
                report.progressFoldersRemoved += 1
            }
        }
        return report
    }
}
