import Foundation

/// A safetensors file opened read-only over a memory map: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {…}}`) and the tensor bytes. Every header entry is
/// validated on open (dtype, shape, offsets inside the data, sizes matching, no overlaps).
public final class SafeTensorsFile: @unchecked Sendable {
    public let url: URL
    /// Tensor entries by name.
    public let tensors: [String: SafeTensorInfo]
    /// Tensor names in data order.
    public let tensorNames: [String]
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Byte offset of the data section (8 + header length).
    public let dataOffset: Int

    private let mapping: WeightFileMapping

    /// The reference implementation's limit on the JSON header (100 MB).
    public static let maxHeaderBytes = 100_000_000

    public init(contentsOf url: URL) throws {
        self.url = url
        let file = url.path
        let map: WeightFileMapping
        do {
            map = try WeightFileMapping(url: url)
        } catch {
            throw SafeTensorsError(.cannotOpen, file: file, field: "file", detail: error.reason)
        }
        mapping = map
        let bytes = map.bytes
        guard bytes.count >= 8 else {
            throw SafeTensorsError(.truncated, file: file, offset: 0, field: "header length",
                                   detail: "the file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let rawLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard rawLength >= 2, rawLength <= UInt64(Self.maxHeaderBytes) else {
            throw SafeTensorsError(.invalidHeader, file: file, offset: 0, field: "header length",
                                   detail: "expected 2…\(Self.maxHeaderBytes) bytes of JSON, found \(rawLength)"
                                       + " — not a safetensors file?")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= bytes.count - 8 else {
            throw SafeTensorsError(.truncated, file: file, offset: 8, field: "header",
                                   detail: "the header length says \(headerLength) bytes but only \(bytes.count - 8) follow")
        }
        let headerBytes = Data(bytes[8..<(8 + headerLength)])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw SafeTensorsError(.invalidHeader, file: file, offset: 8, field: "header",
                                   detail: "expected a JSON object starting with '{'")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafeTensorsError(.invalidHeader, file: file, offset: 8, field: "header",
                                   detail: "the JSON header does not parse: \(error.localizedDescription)")
        }
        guard let object = json as? [String: Any] else {
            throw SafeTensorsError(.invalidHeader, file: file, offset: 8, field: "header", detail: "expected a JSON object")
        }
        dataOffset = 8 + headerLength
        let dataSize = bytes.count - dataOffset

        var metadata: [String: String] = [:]
        if let meta = object["__metadata__"] {
            guard let dict = meta as? [String: Any] else {
                throw SafeTensorsError(.invalidHeader, file: file, field: "header[\"__metadata__\"]",
                                       detail: "expected an object of strings")
            }
            for (k, v) in dict {
                guard let s = v as? String else {
                    throw SafeTensorsError(.invalidHeader, file: file, field: "header[\"__metadata__\"][\"\(k)\"]",
                                           detail: "expected a string, found \(v)")
                }
                metadata[k] = s
            }
        }
        self.metadata = metadata

        var tensors: [String: SafeTensorInfo] = [:]
        for (name, entry) in object where name != "__metadata__" {
            let path = "header[\"\(name)\"]"
            guard let e = entry as? [String: Any] else {
                throw SafeTensorsError(.invalidTensor, file: file, field: path,
                                       detail: "expected an object with dtype, shape and data_offsets")
            }
            guard let dtypeName = e["dtype"] as? String else {
                throw SafeTensorsError(.invalidTensor, file: file, field: path + ".dtype", detail: "missing or not a string")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw SafeTensorsError(.unsupportedDType, file: file, field: path + ".dtype",
                                       detail: "unknown dtype \"\(dtypeName)\"; expected one of "
                                           + SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let shapeItems = e["shape"] as? [Any] else {
                throw SafeTensorsError(.invalidTensor, file: file, field: path + ".shape", detail: "missing or not an array")
            }
            var shape: [Int] = []
            var elements = 1
            for (i, item) in shapeItems.enumerated() {
                guard let d = Self.nonNegativeInt(item) else {
                    throw SafeTensorsError(.invalidTensor, file: file, field: path + ".shape[\(i)]",
                                           detail: "expected a non-negative integer, found \(item)")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw SafeTensorsError(.invalidTensor, file: file, field: path + ".shape",
                                           detail: "the element count overflows")
                }
                elements = product
                shape.append(d)
            }
            guard let offsets = e["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = Self.nonNegativeInt(offsets[0]), let end = Self.nonNegativeInt(offsets[1]), begin <= end else {
                throw SafeTensorsError(.invalidTensor, file: file, field: path + ".data_offsets",
                                       detail: "expected [begin, end] with 0 ≤ begin ≤ end, found \(e["data_offsets"] ?? "nothing")")
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, end - begin == expected else {
                throw SafeTensorsError(.invalidTensor, file: file, field: path + ".data_offsets",
                                       detail: "[\(begin), \(end)] spans \(end - begin) bytes but shape \(shape) of "
                                           + "\(dtype) needs \(overflow ? "too many" : String(expected))")
            }
            guard end <= dataSize else {
                throw SafeTensorsError(.dataOutOfBounds, file: file, offset: dataOffset + begin,
                                       field: path + ".data_offsets",
                                       detail: "data [\(begin), \(end)) runs past the end of the file "
                                           + "(the data section has \(dataSize) bytes)")
            }
            tensors[name] = SafeTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
        }
        let ordered = tensors.values.sorted { ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where a.dataOffsets.upperBound > b.dataOffsets.lowerBound {
            throw SafeTensorsError(.invalidTensor, file: file, offset: dataOffset + b.dataOffsets.lowerBound,
                                   field: "header[\"\(b.name)\"].data_offsets",
                                   detail: "overlaps the data of \"\(a.name)\" [\(a.dataOffsets.lowerBound), "
                                       + "\(a.dataOffsets.upperBound))")
        }
        self.tensors = tensors
        self.tensorNames = ordered.map(\.name)
    }

    /// A JSON number that is an exact non-negative integer. (Foundation on Linux bridges JSON numbers to
    /// NSNumber, which also answers `is Bool` for 0 and 1, so booleans cannot be told apart here.)
    private static func nonNegativeInt(_ value: Any) -> Int? {
        if let i = value as? Int { return i >= 0 ? i : nil }
        if let n = value as? NSNumber, let i = Int(n.stringValue), i >= 0 { return i }
        return nil
    }

    /// The tensor's raw bytes inside the memory map (valid while this object is alive).
    public func bytes(of tensor: SafeTensorInfo) -> UnsafeRawBufferPointer {
        let all = mapping.bytes
        let start = min(dataOffset + tensor.dataOffsets.lowerBound, all.count)
        let end = min(dataOffset + tensor.dataOffsets.upperBound, all.count)
        return UnsafeRawBufferPointer(rebasing: all[start..<max(start, end)])
    }

    /// The tensor converted to fp32 in row-major order (F32, F16, BF16 and F64 are supported).
    public func floats(named name: String) throws -> [Float] {
        guard let info = tensors[name] else {
            throw SafeTensorsError(.missingTensor, file: url.path, field: "tensor \"\(name)\"",
                                   detail: "no tensor with this name in the file (\(tensors.count) tensors)")
        }
        return try floats(info)
    }

    public func floats(_ info: SafeTensorInfo) throws -> [Float] {
        try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, count in
            try floats(info, into: buffer)
            count = info.elementCount
        }
    }

    /// Converts a tensor to fp32 into `destination`, which must hold exactly `info.elementCount` floats.
    public func floats(_ info: SafeTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard info.dtype.isConvertibleToFloat else {
            throw SafeTensorsError(.unsupportedDType, file: url.path, field: "tensor \"\(info.name)\"",
                                   detail: "cannot convert dtype \(info.dtype) to fp32 (supported: F32, F16, BF16, F64)")
        }
        guard destination.count == info.elementCount else {
            throw SafeTensorsError(.sizeMismatch, file: url.path, field: "tensor \"\(info.name)\"",
                                   detail: "destination holds \(destination.count) floats, the tensor has \(info.elementCount)")
        }
        let source = bytes(of: info)
        guard source.count == info.elementCount * info.dtype.byteSize else {
            throw SafeTensorsError(.dataOutOfBounds, file: url.path, field: "tensor \"\(info.name)\"",
                                   detail: "the tensor info does not describe data inside this file")
        }
        guard let src = source.baseAddress, let dst = destination.baseAddress else { return }
        let n = destination.count
        switch info.dtype {
        case .f32: GGMLDequantizer.f32(src, dst, n)
        case .f16: GGMLDequantizer.f16(src, dst, n)
        case .bf16: GGMLDequantizer.bf16(src, dst, n)
        case .f64:
            for i in 0..<n {
                dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        default: break
        }
    }
}

extension SafeTensorsFile {
    /// Whether the regular file at `url` is a safetensors file (by its name or its first bytes: an 8-byte header
    /// length followed by `{`), without mapping it.
    public static func looksLike(_ url: URL) -> Bool {
        if url.pathExtension.lowercased() == "safetensors" { return true }
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 9), head.count == 9 else { return false }
        let length = head.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        return head[head.startIndex + 8] == UInt8(ascii: "{") && length >= 2 && length <= UInt64(maxHeaderBytes)
    }

    /// Why a bare safetensors file cannot be loaded as a model (it holds tensors only, not the configuration and
    /// tokenizer), naming the directory to pass instead when it is beside a `config.json`; nil for other files.
    public static func bareFileProblem(_ url: URL) -> String? {
        guard case .regularFile? = InputFile.kind(of: url), looksLike(url) else { return nil }
        let directory = url.deletingLastPathComponent()
        let hint = FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path)
            ? "pass its directory \(directory.path) instead"
            : "pass the Hugging Face model directory holding it with config.json and tokenizer.json"
        return "a safetensors file holds only tensors, not the model's configuration and tokenizer: \(hint)"
    }
}
