import Foundation
import ModelFormats

/// A local directory holding dataset files at the paths their descriptors name. Reads files and verifies their
/// sha256. `locate` finds the one reptune uses; `DatasetFetcher` fills it.
public struct DatasetMirror: Sendable, Equatable {
    /// Why this directory is the mirror.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        case given, option, environment, besideRepository, userCache(variable: String?)

        public var description: String {
            switch self {
            case .given: "given"
            case .option: "--datasets"
            case .environment: "$\(DatasetMirror.environmentVariable)"
            case .besideRepository: "../shared/datasets beside the repository"
            case .userCache(let variable?): "the per-user cache under $\(variable)"
            case .userCache(nil): "the per-user cache under ~/.cache"
            }
        }
    }

    public static let environmentVariable = "REPTUNE_DATA"

    public let root: URL
    public let origin: Origin

    public init(root: URL, origin: Origin = .given) {
        self.root = root
        self.origin = origin
    }

    /// The conventional mirror next to a repository checkout: `<repo>/../shared/datasets`.
    public static func beside(repository: URL) -> DatasetMirror {
        DatasetMirror(root: repository.deletingLastPathComponent().appendingPathComponent("shared/datasets"),
                      origin: .besideRepository)
    }

    /// The mirror reptune uses, found the same way by every command and by the tests: `--datasets DIR` (`option`),
    /// else `$REPTUNE_DATA`, else `../shared/datasets` beside the repository when that folder exists, else the
    /// per-user cache `$XDG_CACHE_HOME/reptune/datasets` (`~/.cache/reptune/datasets`). Relative paths are taken
    /// from the working directory.
    public static func locate(option: String?, environment: [String: String], repository: URL) -> DatasetMirror {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        func directory(_ path: String) -> URL {
            URL(fileURLWithPath: NSString(string: path).expandingTildeInPath, relativeTo: cwd).standardizedFileURL
        }
        if let option, !option.isEmpty { return DatasetMirror(root: directory(option), origin: .option) }
        if let value = environment[environmentVariable], !value.isEmpty {
            return DatasetMirror(root: directory(value), origin: .environment)
        }
        let beside = Self.beside(repository: repository)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: beside.root.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return beside
        }
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") {
            return DatasetMirror(root: directory(cache).appendingPathComponent("reptune/datasets"),
                                 origin: .userCache(variable: "XDG_CACHE_HOME"))
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return DatasetMirror(root: directory(home).appendingPathComponent(".cache/reptune/datasets"), origin: .userCache(variable: nil))
    }

    public func url(for file: DatasetFileDescriptor) -> URL { root.appendingPathComponent(file.path) }

    /// The file's bytes after checking they hash to the descriptor's sha256.
    public func verifiedData(_ file: DatasetFileDescriptor, of dataset: DatasetDescriptor) throws -> Data {
        let url = url(for: file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError.missingFile(dataset: dataset.name, path: url.path)
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        let found = SHA256.hex(of: data)
        guard found == file.sha256.lowercased() else {
            throw DatasetError.checksumMismatch(path: url.path, expected: file.sha256.lowercased(), found: found)
        }
        return data
    }

    /// The verified file decoded as UTF-8 text.
    public func verifiedText(_ file: DatasetFileDescriptor, of dataset: DatasetDescriptor) throws -> String {
        let data = try verifiedData(file, of: dataset)
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.malformed(path: url(for: file).path, line: nil, expected: "UTF-8 text",
                                         found: "invalid UTF-8 byte sequences")
        }
        return text
    }

    /// The verified text of the file with this role.
    public func verifiedText(role: String, of dataset: DatasetDescriptor) throws -> (text: String, path: String) {
        let file = try dataset.file(role: role)
        return (try verifiedText(file, of: dataset), url(for: file).path)
    }

    /// Where the file stands: missing, present (not hashed), verified, or present with other contents.
    public func status(of file: DatasetFileDescriptor, verify: Bool = true) -> DatasetFileStatus {
        let url = url(for: file)
        guard FileManager.default.fileExists(atPath: url.path) else { return .missing }
        guard verify else { return .present }
        guard let found = try? SHA256.hex(ofFileAt: url) else { return .unreadable }
        return found == file.sha256.lowercased() ? .verified : .mismatch(found: found)
    }
}

/// The state of one dataset file in a mirror.
public enum DatasetFileStatus: Sendable, Equatable, CustomStringConvertible {
    case missing
    /// Exists; contents not checked.
    case present
    case verified
    case mismatch(found: String)
    case unreadable

    public var description: String {
        switch self {
        case .missing: "missing"
        case .present: "present"
        case .verified: "verified"
        case let .mismatch(found): "mismatch (found sha256 \(found))"
        case .unreadable: "unreadable"
        }
    }

    /// Whether a loader can use the file.
    public var isUsable: Bool { self == .verified || self == .present }
}
