/// An error reading or writing a safetensors file: names the file, the byte offset or header JSON path, and what
/// was expected and found.
public struct SafeTensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case cannotOpen, truncated, invalidHeader, invalidTensor, dataOutOfBounds, missingTensor,
             unsupportedDType, sizeMismatch, writeFailed
    }

    public let kind: Kind
    public let file: String
    /// Byte offset in the file, when the problem is at a position in the file.
    public let offset: Int?
    /// The item involved, e.g. `header["model.norm.weight"].data_offsets`.
    public let field: String
    public let detail: String

    public init(_ kind: Kind, file: String, offset: Int? = nil, field: String, detail: String) {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.field = field
        self.detail = detail
    }

    public var description: String {
        let at = offset.map { " at byte offset \($0)" } ?? ""
        return "safetensors error in \(file)\(at), \(field): \(detail)"
    }
}
