import Foundation

/// Writes safetensors files from fp32 values, stored as F32, F16 or BF16 (rounded to nearest even). Tensors are
/// laid out in the order given; the JSON header has sorted keys and is padded with spaces to a multiple of 8 bytes.
/// The file is written to a temporary name beside the destination and renamed into place.
public enum SafeTensorsWriter {
    /// One tensor to write: row-major (Hugging Face) shape and its values in that order.
    public typealias Tensor = (name: String, shape: [Int], values: [Float], dtype: SafeTensorsDType)

    public static func write(tensors: [Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let file = url.path
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var seen = Set<String>()
        for t in tensors {
            let field = "tensor \"\(t.name)\""
            guard t.name != "__metadata__", !t.name.isEmpty, seen.insert(t.name).inserted else {
                throw SafeTensorsError(.invalidTensor, file: file, field: field,
                                       detail: "tensor names must be non-empty, unique and not \"__metadata__\"")
            }
            guard t.dtype == .f32 || t.dtype == .f16 || t.dtype == .bf16 else {
                throw SafeTensorsError(.unsupportedDType, file: file, field: field,
                                       detail: "can only write F32, F16 or BF16, not \(t.dtype)")
            }
            guard t.shape.allSatisfy({ $0 >= 0 }), t.shape.reduce(1, *) == t.values.count else {
                throw SafeTensorsError(.sizeMismatch, file: file, field: field,
                                       detail: "shape \(t.shape) does not hold the \(t.values.count) values given")
            }
            let size = t.values.count * t.dtype.byteSize
            header[t.name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + size]] as [String: Any]
            offset += size
        }
        var json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        } catch {
            throw SafeTensorsError(.writeFailed, file: file, field: "header", detail: "cannot encode the JSON header: \(error)")
        }
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var prefix = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { prefix.append(contentsOf: $0) }
        do {
            try AtomicFile.write(to: url) { handle in
                try handle.write(contentsOf: prefix)
                try handle.write(contentsOf: json)
                for t in tensors { try handle.write(contentsOf: encode(t.values, as: t.dtype)) }
            }
        } catch let failure as AtomicFile.Failure {
            throw SafeTensorsError(.writeFailed, file: file, field: "file", detail: failure.reason)
        } catch {
            throw SafeTensorsError(.writeFailed, file: file, field: "file", detail: "\(error)")
        }
    }

    static func encode(_ values: [Float], as dtype: SafeTensorsDType) -> Data {
        switch dtype {
        case .f16, .bf16:
            var out = Data(count: values.count * 2)
            out.withUnsafeMutableBytes { raw in
                let p = raw.bindMemory(to: UInt8.self)
                for (i, v) in values.enumerated() {
                    let bits = dtype == .f16 ? Float16(v).bitPattern : GGUFWriter.bf16Bits(v)
                    p[2 * i] = UInt8(bits & 0xFF)
                    p[2 * i + 1] = UInt8(bits >> 8)
                }
            }
            return out
        default:
            return values.withUnsafeBytes { Data($0) }   // F32, little-endian hosts
        }
    }
}
