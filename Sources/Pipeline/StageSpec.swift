/// One stage of a manifest: its id, kind, explicitly given parameters and named inputs (role → stage id).
public struct StageSpec: Sendable, Equatable, Hashable {
    public var id: String
    public var kind: StageKind
    public var params: [String: JSONValue]
    public var inputs: [String: String]

    public init(id: String, kind: StageKind, params: [String: JSONValue] = [:], inputs: [String: String] = [:]) {
        self.id = id
        self.kind = kind
        self.params = params
        self.inputs = inputs
    }
}
