/// An error reading, dequantizing or writing a GGUF file: names the file, the byte offset and the field involved.
public struct GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for code that needs to branch on it.
    public enum Kind: Sendable, Equatable {
        case cannotOpen          // missing file, permissions, mmap failure
        case notGGUF             // bad magic
        case unsupportedVersion
        case truncated           // a field runs past the end of the file
        case invalidValue        // a field holds an impossible value (absurd count, bad alignment, …)
        case unknownValueType    // metadata value type id not in the GGUF spec
        case unknownTensorType   // tensor type id that ggml does not define (its size is unknown)
        case misaligned          // tensor data offset not a multiple of the alignment
        case dataOutOfBounds     // tensor data past the end of the file
        case duplicate           // duplicate metadata key or tensor name
        case missingTensor
        case unsupportedTensorType   // dequantizing a type this library cannot convert
        case sizeMismatch        // destination buffer or value count does not match the tensor
        case writeFailed
    }

    public let kind: Kind
    /// Path of the file involved.
    public let file: String
    /// Byte offset in the file where the problem was found, when it is about a position in the file.
    public let offset: Int?
    /// The field being read or the item involved, e.g. `metadata[3] "general.name" value length`.
    public let field: String
    /// What was expected and what was found.
    public let detail: String

    public init(_ kind: Kind, file: String, offset: Int?, field: String, detail: String) {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.field = field
        self.detail = detail
    }

    public var description: String {
        let at = offset.map { " at byte offset \($0)" } ?? ""
        return "GGUF error in \(file)\(at), \(field): \(detail)"
    }
}
