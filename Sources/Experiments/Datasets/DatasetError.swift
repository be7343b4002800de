/// Why a dataset could not be found, verified or parsed. Each case names the file and what was expected and found.
public enum DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    case missingFile(dataset: String, path: String)
    case unreadableFile(path: String, reason: String)
    case checksumMismatch(path: String, expected: String, found: String)
    case invalidDescriptor(path: String, reason: String)
    case unknownDataset(name: String, known: [String])
    case noSuchFileRole(dataset: String, role: String, available: [String])
    case malformed(path: String, line: Int?, expected: String, found: String)

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
        case let .malformed(path, line, expected, found):
            "\(path)\(line.map { ":\($0)" } ?? ""): expected \(expected), found \(found)"
        }
    }
}
