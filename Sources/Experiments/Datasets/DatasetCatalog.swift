import Foundation

/// The datasets reptune knows, read from the descriptor files of a directory (the repository's `datasets/`),
/// with their status in a mirror. This is what `reptune datasets` lists.
public struct DatasetCatalog: Sendable, Equatable {
    public let descriptors: [DatasetDescriptor]

    public init(descriptors: [DatasetDescriptor]) {
        self.descriptors = descriptors.sorted { $0.name < $1.name }
    }

    /// The repository's descriptor directory: `<repo>/datasets`.
    public static func descriptorDirectory(repository: URL) -> URL {
        repository.appendingPathComponent("datasets")
    }

    /// Reads every `*.json` descriptor in `directory` (data files such as `*.split.json` are skipped).
    public static func load(directory: URL) throws -> DatasetCatalog {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw DatasetError.unreadableFile(path: directory.path, reason: error.localizedDescription)
        }
        var descriptors: [DatasetDescriptor] = []
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasSuffix(".split.json") {
            let url = directory.appendingPathComponent(name)
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
            }
            let descriptor: DatasetDescriptor
            do { descriptor = try JSONDecoder().decode(DatasetDescriptor.self, from: data) } catch {
                throw DatasetError.invalidDescriptor(path: url.path, reason: Self.describe(error))
            }
            guard descriptor.name + ".json" == name else {
                throw DatasetError.invalidDescriptor(path: url.path,
                                                     reason: "expected \"name\": \"\(name.dropLast(5))\" to match the file name, found \"\(descriptor.name)\"")
            }
            descriptors.append(descriptor)
        }
        return DatasetCatalog(descriptors: descriptors)
    }

    public var names: [String] { descriptors.map(\.name) }

    public func descriptor(named name: String) throws -> DatasetDescriptor {
        guard let descriptor = descriptors.first(where: { $0.name == name }) else {
            throw DatasetError.unknownDataset(name: name, known: names)
        }
        return descriptor
    }

    /// Status of every dataset's files in `mirror`; `verify: false` only checks existence (no hashing).
    public func statuses(in mirror: DatasetMirror, verify: Bool = true) -> [DatasetStatus] {
        descriptors.map { descriptor in
            DatasetStatus(descriptor: descriptor,
                          files: descriptor.files.map { DatasetStatus.FileStatus(file: $0, url: mirror.url(for: $0),
                                                                                 status: mirror.status(of: $0, verify: verify)) })
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            "missing field \"\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))\""
        case let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context):
            "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": expected \(type)"
        case let DecodingError.dataCorrupted(context):
            "invalid JSON at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)"
        default:
            "\(error)"
        }
    }
}

/// One dataset's files and their state in a mirror.
public struct DatasetStatus: Sendable, Equatable {
    /// One file's state.
    public struct FileStatus: Sendable, Equatable {
        public let file: DatasetFileDescriptor
        public let url: URL
        public let status: DatasetFileStatus
    }

    public let descriptor: DatasetDescriptor
    public let files: [FileStatus]

    /// The worst file state: missing > mismatch > unreadable > present > verified.
    public var overall: DatasetFileStatus {
        let states = files.map(\.status)
        if states.contains(.missing) { return .missing }
        if let mismatch = states.first(where: { if case .mismatch = $0 { true } else { false } }) { return mismatch }
        if states.contains(.unreadable) { return .unreadable }
        if states.contains(.present) { return .present }
        return .verified
    }
}
