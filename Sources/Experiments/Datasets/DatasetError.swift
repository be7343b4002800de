/// Why a dataset could not be found, verified or parsed. Each case names the file and what was expected and found.
public enum DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    case missingFile(dataset: String, path: String)
    case unreadableFile(path: String, reason: String)
    case checksumMismatch(path: String, expected: String, found: String)
    case invalidDescriptor(path: String, reason: String)
    case unknownDataset(name: String, known: [String])
    case noSuchFileRole(dataset: String, role: String, available: [String])
    /// A dataset whose files lie in several folders, named without saying which file.
    case needsRole(dataset: String, available: [String])
    case malformed(path: String, line: Int?, expected: String, found: String)
    /// A download address that cannot be used (a descriptor's source or `$REPTUNE_DATA_SOURCE`).
    case invalidSource(address: String, reason: String)
    /// A download or copy that did not give the file; nothing was written at `path`.
    case fetchFailed(path: String, source: String, reason: String)
    /// Fetched bytes whose sha256 differs from the descriptor's; nothing was written at `path`.
    case fetchedMismatch(path: String, source: String, expected: String, found: String)
    /// The mirror cannot take the file.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(dataset, path):
            "dataset \(dataset): file \(path) is missing from the mirror"
        case let .unreadableFile(path, reason):
            "cannot read \(path): \(reason)"
        case let .checksumMismatch(path, expected, found):
            "\(path): sha256 mismatch: expected \(expected), found \(found)"
        case let .invalidDescriptor(path, reason):
            "dataset descriptor \(path): \(reason)"
        case let .unknownDataset(name, known):
            "unknown dataset \"\(name)\"; known: \(known.joined(separator: ", "))"
        case let .noSuchFileRole(dataset, role, available):
            "dataset \(dataset) has no file with role \"\(role)\"; it has: \(available.joined(separator: ", "))"
        case let .needsRole(dataset, available):
            "dataset \(dataset) has files in several folders: name one by its role (\(available.map { "\"\($0)\"" }.joined(separator: ", ")))"
        case let .malformed(path, line, expected, found):
            "\(path)\(line.map { ":\($0)" } ?? ""): expected \(expected), found \(found)"
        case let .invalidSource(address, reason):
            "cannot download from \(address): \(reason)"
        case let .fetchFailed(path, source, reason):
            "\(path): fetching \(source) failed: \(reason); nothing was written"
        case let .fetchedMismatch(path, source, expected, found):
            "\(path): the file from \(source) has sha256 \(found), expected \(expected); refused, nothing was written"
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason)"
        }
    }
}
