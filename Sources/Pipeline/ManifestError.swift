/// One validation problem in a manifest, located by a path such as `stages[3].params.layers[1]`.
public struct ManifestError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var path: String
    public var expected: String
    public var found: String
    public var suggestion: String?

    public init(path: String, expected: String, found: String, suggestion: String? = nil) {
        self.path = path
        self.expected = expected
        self.found = found
        self.suggestion = suggestion
    }

    /// `stages[3].params.layers[1]: expected an integer, found "x"` plus ` (did you mean "multipliers"?)`.
    public var description: String {
        var s = "\(path): expected \(expected), found \(found)"
        if let suggestion { s += " (did you mean \(JSONText.quoted(suggestion))?)" }
        return s
    }
}

/// Why a manifest could not be loaded: a JSON syntax error, or every validation error found.
public enum ManifestFailure: Error, Sendable, Equatable {
    case syntax(JSONSyntaxError)
    case invalid([ManifestError])

    /// One line per problem.
    public var messages: [String] {
        switch self {
        case .syntax(let e): [e.description]
        case .invalid(let errors): errors.map(\.description)
        }
    }
}
