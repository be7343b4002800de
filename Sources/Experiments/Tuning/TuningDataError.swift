/// Training data that cannot be built as asked: names the setting or input and what was expected.
public struct TuningDataError: Error, CustomStringConvertible, Equatable {
    /// The setting or input at fault (`batch_size`, `probe_position`, `vector`, a dataset path…).
    public var field: String
    public var message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
