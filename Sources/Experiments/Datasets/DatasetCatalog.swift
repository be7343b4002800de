import Foundation
import ModelFormats

/// A dataset as its descriptor in `datasets/<name>.json` describes it: where it came from, its licence, and the
/// files (with sha256) a local mirror must hold.
public struct DatasetDescriptor: Sendable, Codable, Equatable {
    /// One file of a dataset, relative to the mirror directory.
    public struct File: Sendable, Codable, Equatable {
        public var path: String
        public var sha256: String
        public var bytes: Int
    }

    public var name: String
    public var description: String
    public var sourceURL: String
    public var licence: String
    public var format: String
    public var parser: String
    public var files: [File]

    enum CodingKeys: String, CodingKey {
        case name, description, licence, format, parser, files
        case sourceURL = "source_url"
    }
}

/// Whether a dataset's files are in the mirror and intact.
public enum DatasetStatus: String, Sendable, Codable {
    case verified
    /// Present with the expected size; contents not hashed (a quick check).
    case present
    case missing
    /// Present but its sha256 (or size) differs from the descriptor's.
    case mismatch
}

/// The dataset descriptors of the repository and a mirror directory holding the files.
public struct DatasetCatalog: Sendable {
    public var descriptors: [DatasetDescriptor]
    public var mirror: URL

    /// Reads every `*.json` descriptor in `descriptorDirectory`.
    public init(descriptorDirectory: URL, mirror: URL) throws {
        let files = try FileManager.default.contentsOfDirectory(at: descriptorDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        descriptors = try files.map { url in
            do { return try JSONDecoder().decode(DatasetDescriptor.self, from: Data(contentsOf: url)) } catch {
                throw DatasetError("\(url.path): not a dataset descriptor (\(error))")
            }
        }
        self.mirror = mirror
    }

    public func descriptor(named name: String) throws -> DatasetDescriptor {
        guard let d = descriptors.first(where: { $0.name == name }) else {
            throw DatasetError("unknown dataset \"\(name)\" (known: \(descriptors.map(\.name).joined(separator: ", ")))")
        }
        return d
    }

    /// The status of every file of `d`; `hash` computes sha256 (slower) instead of checking sizes only.
    public func status(of d: DatasetDescriptor, hash: Bool = true) -> DatasetStatus {
        var result = DatasetStatus.verified
        for f in d.files {
            let url = mirror.appendingPathComponent(f.path)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else { return .missing }
            if (attributes[.size] as? Int) != f.bytes { return .mismatch }
            if hash {
                guard (try? SHA256.hex(ofFileAt: url)) == f.sha256 else { return .mismatch }
            } else {
                result = .present
            }
        }
        return result
    }

    /// The verified path of one file of dataset `name` (the first file unless `file` names another).
    public func verifiedFile(_ name: String, file: String? = nil) throws -> URL {
        let d = try descriptor(named: name)
        guard let f = file.map({ p in d.files.first { $0.path.hasSuffix(p) } }) ?? d.files.first else {
            throw DatasetError("dataset \(name) has no file \(file ?? "")")
        }
        let url = mirror.appendingPathComponent(f.path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError("\(url.path): missing — dataset \(name) is not in the mirror \(mirror.path) (source: \(d.sourceURL))")
        }
        let found = try SHA256.hex(ofFileAt: url)
        guard found == f.sha256 else {
            throw DatasetError("\(url.path): sha256 expected \(f.sha256), found \(found)")
        }
        return url
    }
}
