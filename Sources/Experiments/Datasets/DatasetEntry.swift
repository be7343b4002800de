import Foundation

/// What a manifest reads when it names a dataset (`{"dataset": "gpt4_facts"}`): one file of the descriptor, or the
/// folder that holds all its files (instrumental_lying, representation_tuning_outputs), as a path in the mirror.
public struct DatasetEntry: Sendable, Equatable {
    /// Path relative to the mirror root (a file, or a folder when `isFolder`).
    public var path: String
    public var isFolder: Bool
    /// The descriptor files the entry covers (one for a file).
    public var files: [DatasetFileDescriptor]
}

extension DatasetDescriptor {
    /// The entry a manifest reads: the file with `role` when one is given; else the `data` file, else the only
    /// file, else the folder when every file lies directly in one folder. A dataset whose files are spread over
    /// several folders (CAA's generate/ and test/) needs a role.
    public func entry(role: String?) throws -> DatasetEntry {
        if let role {
            let file = try file(role: role)
            return DatasetEntry(path: file.path, isFolder: false, files: [file])
        }
        if let data = files.first(where: { $0.role == "data" }) ?? (files.count == 1 ? files.first : nil) {
            return DatasetEntry(path: data.path, isFolder: false, files: [data])
        }
        let folders = Set(files.map { ($0.path as NSString).deletingLastPathComponent })
        guard folders.count == 1, let folder = folders.first, !folder.isEmpty else {
            throw DatasetError.needsRole(dataset: name, available: files.map(\.role))
        }
        return DatasetEntry(path: folder, isFolder: true, files: files)
    }
}
