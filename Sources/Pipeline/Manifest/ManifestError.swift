/// One problem found in a manifest: where (JSON path and, when known, line and column), what was expected,
/// what was found, and a suggestion when the text looks like a misspelling of something valid.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: JSONPath
    public var location: SourceLocation?
    /// What the manifest should have here ("integer ≥ 0", "one of mean_diff, pca", "an existing file").
    public var expected: String
    /// What the manifest has ("string \"ten\"", "unknown key \"layer\"", "no such file").
    public var found: String
    /// A near-miss correction ("did you mean \"layers\"?"), if any.
    public var suggestion: String?

    public init(path: JSONPath, location: SourceLocation? = nil, expected: String, found: String,
                suggestion: String? = nil) {
        self.path = path
        self.location = location
        self.expected = expected
        self.found = found
        self.suggestion = suggestion
    }

    public var description: String {
        var s = "\(path)"
        if let location { s += " (\(location))" }
        s += ": expected \(expected), found \(found)"
        if let suggestion { s += "; \(suggestion)" }
        return s
    }
}

/// Everything wrong with one manifest file, reported together.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
    /// The manifest file (or a label such as "<string>").
    public var file: String
    public var errors: [ManifestError]

    public init(file: String, errors: [ManifestError]) {
        self.file = file
        self.errors = errors
    }

    public var description: String {
        let header = errors.count == 1 ? "\(file): 1 error" : "\(file): \(errors.count) errors"
        return ([header] + errors.map { "  \($0)" }).joined(separator: "\n")
    }
}
