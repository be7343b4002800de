/// A GGUF file cannot be read: names the file, the byte offset and the field being read.
public struct GGUFError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var offset: Int?
    public var field: String
    public var message: String

    public init(file: String, offset: Int?, field: String, _ message: String) {
        self.file = file
        self.offset = offset
        self.field = field
        self.message = message
    }

    public var description: String {
        let at = offset.map { " at byte \($0)" } ?? ""
        return "\(file)\(at): \(field): \(message)"
    }
}
