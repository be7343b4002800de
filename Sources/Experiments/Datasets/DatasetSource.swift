import Foundation

/// Where a dataset file is downloaded from: the file's `url` when its descriptor gives one, else the raw file of its
/// GitHub repository at the pinned commit (`https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<sourcePath>`).
///
/// `stand-in`, set from `$REPTUNE_DATA_SOURCE`, replaces the origin of every address: `https://HOST/PATH` is then
/// fetched from `<stand-in>/HOST/PATH` — a lab's own copy of the sources, or a loopback server in a test
/// (`scripts/serve-dataset-sources.sh` lays one out from a mirror).
public struct DatasetSource: Sendable, Equatable {
    public static let standInVariable = "REPTUNE_DATA_SOURCE"
    public static let rawGitHubHost = "raw.githubusercontent.com"

    /// The base address replacing `https://` in every download address, or nil to use the origins.
    public var standIn: URL?

    public init(standIn: URL? = nil) { self.standIn = standIn }

    /// The stand-in `$REPTUNE_DATA_SOURCE` names (unset or empty: the origins).
    public init(environment: [String: String]) throws {
        guard let value = environment[Self.standInVariable], !value.isEmpty else { self.init(); return }
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host != nil else {
            throw DatasetError.invalidSource(address: value,
                                             reason: "$\(Self.standInVariable) must be an http:// or https:// address")
        }
        self.init(standIn: url)
    }

    /// The address the descriptor names for `file` (before any stand-in).
    public static func origin(of file: DatasetFileDescriptor, in dataset: DatasetDescriptor) throws -> URL {
        if let given = file.url {
            guard let url = URL(string: given), url.scheme?.lowercased() == "https", url.host != nil else {
                throw DatasetError.invalidSource(address: given, reason: "dataset \(dataset.name), file \(file.path): \"url\" must be an https:// address")
            }
            return url
        }
        let prefix = "https://github.com/"
        guard dataset.sourceURL.hasPrefix(prefix) else {
            throw DatasetError.invalidSource(address: dataset.sourceURL,
                                             reason: "dataset \(dataset.name), file \(file.path): no \"url\" and the source is not a GitHub repository")
        }
        let repository = dataset.sourceURL.dropFirst(prefix.count).split(separator: "/")
        guard repository.count == 2, let commit = file.sourceCommit ?? dataset.sourceCommit, let path = file.sourcePath else {
            throw DatasetError.invalidSource(address: dataset.sourceURL,
                                             reason: "dataset \(dataset.name), file \(file.path): a GitHub source needs owner/repository, a commit and the file's sourcePath")
        }
        let encoded = path.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
        return URL(string: "https://\(rawGitHubHost)/\(repository[0])/\(repository[1])/\(commit)/\(encoded.joined(separator: "/"))")!
    }

    /// The address `file` is downloaded from: its origin, or the stand-in's copy of it.
    public func url(of file: DatasetFileDescriptor, in dataset: DatasetDescriptor) throws -> URL {
        let origin = try Self.origin(of: file, in: dataset)
        guard let standIn else { return origin }
        let hostAndPath = origin.absoluteString.dropFirst("https://".count)
        let base = standIn.absoluteString.hasSuffix("/") ? String(standIn.absoluteString.dropLast()) : standIn.absoluteString
        return URL(string: base + "/" + hostAndPath)!
    }
}
