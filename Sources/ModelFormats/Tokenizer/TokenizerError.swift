/// A vocabulary or tokenizer file that cannot be used: names the source (file or "vocabulary"), the field or
/// JSON path, what was expected and what was found.
public struct TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, or "vocabulary" for a hand-built `TokenizerVocabulary`.
    public var source: String
    /// The field, metadata key or JSON path at fault.
    public var field: String
    public var detail: String

    public init(source: String, field: String, _ detail: String) {
        self.source = source
        self.field = field
        self.detail = detail
    }

    public var description: String { "\(source): \(field): \(detail)" }
}
