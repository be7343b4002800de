/// Where one tensor lives in a GGUF file and how it is stored.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions in ggml order: `shape[0]` is the contiguous (innermost) dimension, so a PyTorch/HF matrix
    /// `[out, in]` has `shape == [in, out]`.
    public let shape: [Int]
    public let type: GGMLType
    /// Byte offset of the tensor data from the start of the data section.
    public let offset: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
    }

    /// Number of elements (product of `shape`; 1 for a scalar with no dimensions).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Number of bytes the data occupies in the file.
    public var byteCount: Int { elementCount / type.blockSize * type.bytesPerBlock }

    /// The shape in row-major (PyTorch / Hugging Face / safetensors) order: `shape` reversed.
    public var rowMajorShape: [Int] { shape.reversed() }

    /// Number of rows when viewed as a matrix `[rows, shape[0]]` (product of all dimensions but the first).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
}
