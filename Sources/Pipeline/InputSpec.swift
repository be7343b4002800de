/// A named input role of a stage kind and the stage kinds allowed to feed it.
public struct InputSpec: Sendable, Equatable, Hashable {
    public var role: String
    public var from: [StageKind]
    public var required: Bool
    public var doc: String

    public init(_ role: String, from: [StageKind], required: Bool = false, doc: String) {
        self.role = role
        self.from = from
        self.required = required
        self.doc = doc
    }
}
