import Foundation

/// Puts datasets' files into a mirror: a file already there with the descriptor's sha256 is kept; a missing one is
/// copied from `copySource` (`../shared/datasets` beside the repository) when that mirror has the right bytes, else
/// downloaded from its `DatasetSource` address. Every file arrives through an `IncomingFile`, so a failure or a
/// wrong hash leaves nothing behind. After a host fails to answer, its other files are not tried.
public struct DatasetFetcher {
    /// How one file ended.
    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        /// Already in the mirror with the right sha256.
        case present
        case copied(from: String)
        case downloaded(from: String)
        case failed(DatasetError)
        /// Not downloaded because `host` did not answer an earlier request of this fetch.
        case notTried(host: String)

        public var description: String {
            switch self {
            case .present: "already there, sha256 verified"
            case .copied(let from): "copied from \(from), sha256 verified"
            case .downloaded(let from): "downloaded from \(from), sha256 verified"
            case .failed(let error): "\(error)"
            case .notTried(let host): "not tried: \(host) did not answer an earlier request"
            }
        }

        public var succeeded: Bool {
            switch self {
            case .present, .copied, .downloaded: true
            case .failed, .notTried: false
            }
        }
    }

    /// What the fetcher is doing, for a progress display.
    public enum Event {
        /// A copy (`copying`) or a download of `bytes` bytes starts.
        case started(file: DatasetFileDescriptor, from: String, copying: Bool)
        case progress(file: DatasetFileDescriptor, bytes: Int, total: Int)
        case finished(file: DatasetFileDescriptor, outcome: Outcome)
    }

    public var mirror: DatasetMirror
    public var copySource: DatasetMirror?
    public var source: DatasetSource
    public var download: HTTPDownload

    public init(mirror: DatasetMirror, copySource: DatasetMirror?, source: DatasetSource = DatasetSource(),
                download: HTTPDownload = HTTPDownload()) {
        self.mirror = mirror
        self.copySource = copySource?.root.standardizedFileURL.path == mirror.root.standardizedFileURL.path ? nil : copySource
        self.source = source
        self.download = download
    }

    /// Fetches every file of `datasets` in order; returns each file's outcome.
    public func fetch(_ datasets: [DatasetDescriptor],
                      observe: @escaping (Event) -> Void = { _ in }) -> [(file: DatasetFileDescriptor, outcome: Outcome)] {
        IncomingFile.removeStale(in: mirror)
        var unreachable: Set<String> = []
        var results: [(file: DatasetFileDescriptor, outcome: Outcome)] = []
        for dataset in datasets {
            for file in dataset.files {
                let outcome = fetch(file, of: dataset, unreachable: &unreachable, observe: observe)
                observe(.finished(file: file, outcome: outcome))
                results.append((file, outcome))
            }
        }
        IncomingFile.removeFolderIfEmpty(in: mirror)
        return results
    }

    private func fetch(_ file: DatasetFileDescriptor, of dataset: DatasetDescriptor, unreachable: inout Set<String>,
                       observe: @escaping (Event) -> Void) -> Outcome {
        let target = mirror.url(for: file)
        switch mirror.status(of: file) {
        case .verified: return .present
        case .mismatch(let found):
            return .failed(.checksumMismatch(path: target.path, expected: file.sha256.lowercased(), found: found))
        case .unreadable: return .failed(.unreadableFile(path: target.path, reason: "it exists but cannot be read"))
        case .missing, .present: break
        }
        if let copySource, copySource.status(of: file, verify: false) == .present {
            let from = copySource.url(for: file)
            observe(.started(file: file, from: from.path, copying: true))
            if case .copied = copy(file, from: from) { return .copied(from: copySource.root.path) }
        }
        let url: URL
        do { url = try source.url(of: file, in: dataset) } catch { return .failed(error as? DatasetError ?? .fetchFailed(path: target.path, source: dataset.sourceURL, reason: "\(error)")) }
        let host = url.host ?? url.absoluteString
        if unreachable.contains(host) { return .notTried(host: host) }
        observe(.started(file: file, from: url.absoluteString, copying: false))
        let incoming: IncomingFile
        do { incoming = try IncomingFile(file, into: mirror) } catch { return .failed(error) }
        do {
            try download.get(url, progress: { received, _ in observe(.progress(file: file, bytes: received, total: file.bytes)) },
                             chunk: incoming.append)
        } catch {
            incoming.discard()
            if error.hostUnreachable { unreachable.insert(host) }
            return .failed(.fetchFailed(path: target.path, source: url.absoluteString, reason: error.reason))
        }
        do { try incoming.commit(source: url.absoluteString) } catch { return .failed(error) }
        return .downloaded(from: url.absoluteString)
    }

    /// Copies a file of the copy source through an `IncomingFile` (so its hash is checked on the way).
    private func copy(_ file: DatasetFileDescriptor, from: URL) -> Outcome {
        do {
            let incoming = try IncomingFile(file, into: mirror)
            guard let reader = FileHandle(forReadingAtPath: from.path) else {
                incoming.discard()
                return .failed(.unreadableFile(path: from.path, reason: "cannot open it"))
            }
            defer { try? reader.close() }
            do {
                while let data = try reader.read(upToCount: 1 << 20), !data.isEmpty { try incoming.append(data) }
            } catch {
                incoming.discard()
                return .failed(.fetchFailed(path: incoming.target.path, source: from.path, reason: "\(error)"))
            }
            try incoming.commit(source: from.path)
            return .copied(from: from.path)
        } catch {
            return .failed(error)
        }
    }
}
