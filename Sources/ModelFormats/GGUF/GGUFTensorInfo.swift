/// Where a tensor lives in a GGUF file and what it holds.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions in ggml order: `shape[0]` is the contiguous (innermost) one. A `[out × in]` weight is `[in, out]`.
    public let shape: [Int]
    /// The element type, or nil when the file names a type id this reader does not know (`typeID` keeps it).
    public let type: GGMLType?
    public let typeID: UInt32
    /// Byte offset from the start of the data section.
    public let offset: Int

    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes of tensor data (0 when the type is unknown).
    public var byteCount: Int {
        guard let type else { return 0 }
        return elementCount / type.blockSize * type.bytesPerBlock
    }

    public var typeName: String { type?.name ?? "unknown type \(typeID)" }
}
