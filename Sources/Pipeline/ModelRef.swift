/// The model a manifest runs on: a file path or a named built-in model, plus an optional chat template name.
public struct ModelRef: Sendable, Equatable, Hashable {
    /// Where the model comes from.
    public enum Source: Sendable, Equatable, Hashable {
        case path(String)
        case named(String)
    }

    /// The model used when a manifest has no `model`.
    public static let defaultName = "smollm2-135m"

    public var source: Source
    public var template: String?

    public init(source: Source = .named(ModelRef.defaultName), template: String? = nil) {
        self.source = source
        self.template = template
    }
}
