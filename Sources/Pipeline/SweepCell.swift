/// One point of a stage's sweep: a value for every grid parameter.
public struct SweepCell: Sendable, Equatable, Hashable {
    public var coordinates: [String: JSONValue]

    public init(_ coordinates: [String: JSONValue]) { self.coordinates = coordinates }
}
