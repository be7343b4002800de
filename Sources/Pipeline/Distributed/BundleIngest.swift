import Foundation

/// What ingesting a bundle did: cells stored now, cells that were stored already (a bundle ingested twice, or a
/// cell another worker finished first), and the failures the worker reported (not stored: the coordinator decides
/// whether to retry).
public struct IngestOutcome: Sendable, Hashable {
    public var stored: Int
    public var alreadyStored: Int
    public var failures: [Int: String]
}

extension Store {
    /// Stores the finished cells of a worker's bundle in one transaction, idempotently: a cell already done keeps
    /// what it holds, so the same bundle ingested twice stores once. Every artifact the bundle names must be in the
    /// results directory with its size and sha256, checked before anything is written: a bundle whose files did not
    /// arrive is refused whole.
    public func ingest(_ bundle: ResultBundle) throws -> IngestOutcome {
        for (cell, result) in bundle.results {
            for (name, ref) in result.artifacts.sorted(by: { $0.key < $1.key }) {
                let url = artifactURL(ref)
                guard let size = try? Self.fileSize(url), FileManager.default.fileExists(atPath: url.path) else {
                    throw ResultBundleError("result bundle of unit \(bundle.unit): cell #\(cell.index)'s artifact \(name) is not in the results directory (\(url.path)); nothing was ingested")
                }
                let sha = try Hashing.sha256Hex(fileAt: url)
                guard size == ref.bytes, sha == ref.sha256 else {
                    throw ResultBundleError("result bundle of unit \(bundle.unit): cell #\(cell.index)'s artifact \(name) at \(url.path) has \(size) bytes with sha256 \(sha), the bundle names \(ref.bytes) bytes with sha256 \(ref.sha256); nothing was ingested")
                }
            }
        }
        return try db.transaction {
            var outcome = IngestOutcome(stored: 0, alreadyStored: 0, failures: [:])
            for (cell, result) in bundle.results {
                let changed = try db.run("""
                    UPDATE cells SET status = 'done', metrics_json = ?, outputs_json = ?, error = NULL, finished_at = ?,
                    claimed_by = NULL, claimed_at = NULL WHERE stage_key = ? AND cell_index = ? AND status <> 'done'
                    """, [.text(result.metricsJSON), .text(CanonicalJSON.encode(result.outputs)), .real(Self.now),
                          .text(bundle.unit.stageKey), .integer(Int64(cell.index))])
                if changed == 1 {
                    try insertOutputs(of: result, key: bundle.unit.stageKey, cell: cell.index)
                    outcome.stored += 1
                } else {
                    outcome.alreadyStored += 1
                }
            }
            for f in bundle.failures { outcome.failures[f.cell] = f.error }
            return outcome
        }
    }
}
