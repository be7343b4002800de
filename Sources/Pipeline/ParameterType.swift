/// The type a stage parameter's value must have.
public indirect enum ParameterType: Sendable, Equatable, Hashable {
    case int
    case number
    case string
    case bool
    case intList
    case stringList
    /// A list of numbers or `{"range": [lo, hi, step]}`, expanded inclusively.
    case grid
    /// A grid whose values must all be integers (layer indices).
    case intGrid
    /// `"last"` or a list of integer token offsets.
    case positions
    /// One of the listed strings.
    case enumeration([String])
    /// The name of an entry in the manifest's `datasets`.
    case dataset
    /// Any JSON object.
    case object

    /// Whether values of this type are expanded into sweep cells.
    public var isGrid: Bool { self == .grid || self == .intGrid }

    /// Noun phrase used in error messages and docs, e.g. `an integer`.
    public var expectation: String {
        switch self {
        case .int: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .bool: "a boolean"
        case .intList: "a list of integers"
        case .stringList: "a list of strings"
        case .grid: #"a list of numbers or {"range": [lo, hi, step]}"#
        case .intGrid: #"a list of integers or {"range": [lo, hi, step]}"#
        case .positions: #""last" or a list of integer offsets"#
        case .enumeration(let values): "one of " + values.map { JSONText.quoted($0) }.joined(separator: ", ")
        case .dataset: "the name of a dataset declared in datasets"
        case .object: "an object"
        }
    }
}
