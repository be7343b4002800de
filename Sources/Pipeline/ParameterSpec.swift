/// One row of the stage parameter table: name, type, whether required, default and documentation.
public struct ParameterSpec: Sendable, Equatable, Hashable {
    public var name: String
    public var type: ParameterType
    public var required: Bool
    public var defaultValue: JSONValue?
    public var doc: String

    public init(_ name: String, _ type: ParameterType, required: Bool = false, default defaultValue: JSONValue? = nil, doc: String) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.doc = doc
    }
}
