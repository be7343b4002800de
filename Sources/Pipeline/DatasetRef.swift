/// A dataset declared in the manifest: its name, optional split and optional item limit.
public struct DatasetRef: Sendable, Equatable, Hashable {
    public var name: String
    public var split: String?
    public var limit: Int?

    public init(name: String, split: String? = nil, limit: Int? = nil) {
        self.name = name
        self.split = split
        self.limit = limit
    }
}
