import Foundation

/// The datasets a manifest can name: the repository's descriptors and the mirror that holds their files.
public struct DatasetLibrary: Sendable, Equatable {
    public var catalog: DatasetCatalog
    public var mirror: DatasetMirror

    public init(catalog: DatasetCatalog, mirror: DatasetMirror) {
        self.catalog = catalog
        self.mirror = mirror
    }

    /// A named dataset as a manifest reads it: its descriptor, the entry (`DatasetDescriptor.entry`) and where
    /// that entry is in the mirror.
    public struct Resolved: Sendable, Equatable {
        public var descriptor: DatasetDescriptor
        public var entry: DatasetEntry
        public var url: URL
        /// The entry's files that are not in the mirror (by path; contents are checked when a run starts).
        public var missing: [DatasetFileDescriptor]
    }

    public func resolve(_ name: String, role: String?) throws -> Resolved {
        let descriptor = try catalog.descriptor(named: name)
        let entry = try descriptor.entry(role: role)
        return Resolved(descriptor: descriptor, entry: entry, url: mirror.root.appendingPathComponent(entry.path),
                        missing: entry.files.filter { mirror.status(of: $0, verify: false) == .missing })
    }
}
