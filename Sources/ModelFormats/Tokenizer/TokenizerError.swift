/// A tokenizer cannot be built from a vocabulary or file: says what is wrong and where.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ message: String) { description = message }
}
