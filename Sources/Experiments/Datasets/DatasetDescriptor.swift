import Foundation

/// What reptune knows about one dataset: where it comes from, its licence, and the exact files (path in the
/// local mirror, sha256, size, format) its loader expects. Stored as `datasets/<name>.json` in the repository.
public struct DatasetDescriptor: Codable, Sendable, Equatable {
    public var name: String
    public var title: String
    /// Web address of the origin repository or page.
    public var sourceURL: String
    /// The origin's commit (or version) the files were taken from; a file may name its own.
    public var sourceCommit: String?
    public var licence: String
    /// Which Swift loader reads the files (e.g. `"true-false-statements"`, `"truthfulqa"`).
    public var parser: String
    public var files: [DatasetFileDescriptor]
    public var notes: String?

    public init(name: String, title: String, sourceURL: String, sourceCommit: String?, licence: String,
                parser: String, files: [DatasetFileDescriptor], notes: String? = nil) {
        self.name = name
        self.title = title
        self.sourceURL = sourceURL
        self.sourceCommit = sourceCommit
        self.licence = licence
        self.parser = parser
        self.files = files
        self.notes = notes
    }

    /// The file with this role (e.g. `"data"`, `"open-ended prompts"`).
    public func file(role: String) throws -> DatasetFileDescriptor {
        guard let file = files.first(where: { $0.role == role }) else {
            throw DatasetError.noSuchFileRole(dataset: name, role: role, available: files.map(\.role))
        }
        return file
    }
}

/// One file of a dataset: its role for the loader, path relative to the mirror root, and expected contents.
public struct DatasetFileDescriptor: Codable, Sendable, Equatable {
    public var role: String
    /// Path relative to the mirror directory, e.g. `truthfulqa/TruthfulQA.csv`.
    public var path: String
    /// Path of the file inside the origin repository.
    public var sourcePath: String?
    /// The origin's commit of this file, when it differs from the dataset's `sourceCommit`.
    public var sourceCommit: String?
    /// Where to download the file when it is not `sourcePath` of a GitHub repository at a commit (an HTTPS address).
    public var url: String?
    public var sha256: String
    public var bytes: Int
    /// Format of the file: `csv`, `text-lines-escaped`, `text-blocks`, `python-triple-quoted-list`,
    /// `raw-text-crlf`, `json`, `text`, `caa-ab-json`, … (what its loader expects).
    public var format: String
    /// Data rows (or units) the file holds.
    public var rows: Int?

    public init(role: String, path: String, sourcePath: String? = nil, sourceCommit: String? = nil, url: String? = nil,
                sha256: String, bytes: Int, format: String, rows: Int? = nil) {
        self.role = role
        self.path = path
        self.sourcePath = sourcePath
        self.sourceCommit = sourceCommit
        self.url = url
        self.sha256 = sha256
        self.bytes = bytes
        self.format = format
        self.rows = rows
    }
}
