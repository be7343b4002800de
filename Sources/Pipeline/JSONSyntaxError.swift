/// A JSON syntax error at a 1-based line and column (columns count bytes).
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// What the parser wanted, e.g. `',' or '}'`.
    public var expected: String
    /// What it saw instead, e.g. `'x'` or `end of input`.
    public var found: String

    public init(file: String, line: Int, column: Int, expected: String, found: String) {
        self.file = file
        self.line = line
        self.column = column
        self.expected = expected
        self.found = found
    }

    /// `manifest.json:3:14: expected ',' or '}' but found 'x'`
    public var description: String { "\(file):\(line):\(column): expected \(expected) but found \(found)" }
}
