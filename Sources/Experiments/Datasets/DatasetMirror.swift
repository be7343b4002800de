import Foundation
import ModelFormats

/// A local directory holding dataset files at the paths their descriptors name (for this repository:
/// `../shared/datasets`). Reads files and verifies their sha256.
public struct DatasetMirror: Sendable, Equatable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// The conventional mirror next to a repository checkout: `<repo>/../shared/datasets`.
    public static func beside(repository: URL) -> DatasetMirror {
        DatasetMirror(root: repository.deletingLastPathComponent().appendingPathComponent("shared/datasets"))
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
