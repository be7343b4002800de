import Foundation
import ModelFormats

/// Per-layer steering directions stored in a file: a llama.cpp-compatible control-vector GGUF
/// (`general.architecture = controlvector`, `controlvector.layer_count`, tensors `direction.N` applied to the
/// output of block N — llama.cpp has no direction for block 0) or a plain JSON array of floats (one vector).
public struct ControlVectorFile: Sendable, Equatable {
    /// Direction per block index.
    public var directions: [Int: [Float]]
    public var modelHint: String?

    public init(directions: [Int: [Float]], modelHint: String? = nil) {
        self.directions = directions
        self.modelHint = modelHint
    }

    /// Reads a control-vector GGUF or a JSON array of floats (which then applies to whatever layer is asked for).
    public init(contentsOf url: URL) throws {
        let head = try FileHandle(forReadingFrom: url).read(upToCount: 4) ?? Data()
        if head == Data("GGUF".utf8) {
            let file = try GGUFFile(contentsOf: url)
            var directions = [Int: [Float]]()
            for t in file.tensors where t.name.hasPrefix("direction.") {
                guard let layer = Int(t.name.dropFirst("direction.".count)) else {
                    throw ModelLoadError(file: url.path, "tensor \(t.name): expected direction.<layer number>")
                }
                directions[layer] = try file.dequantize(t.name)
            }
            guard !directions.isEmpty else {
                throw ModelLoadError(file: url.path, "no direction.N tensors: not a control-vector GGUF")
            }
            self.init(directions: directions, modelHint: file.metadata["controlvector.model_hint"]?.string)
            return
        }
        let data = try Data(contentsOf: url)
        guard let array = try? JSONSerialization.jsonObject(with: data) as? [Any],
              let values = array as? [NSNumber], !values.isEmpty else {
            throw ModelLoadError(file: url.path, "expected a JSON array of numbers or a control-vector GGUF")
        }
        self.init(directions: [-1: values.map(\.floatValue)])
    }

    /// The direction to use at block `layer` (a JSON vector serves every layer).
    public func direction(layer: Int, width: Int, source: String) throws -> [Float] {
        guard let v = directions[layer] ?? directions[-1] else {
            throw ModelLoadError(file: source, "no direction for layer \(layer) (the file has layers \(directions.keys.sorted().map(String.init).joined(separator: ", ")))")
        }
        guard v.count == width else {
            throw ModelLoadError(file: source, "the vector has \(v.count) values, the model's residual stream \(width)")
        }
        return v
    }

    /// Writes the directions as a control-vector GGUF that llama.cpp can load.
    public func write(to url: URL, layerCount: Int) throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("controlvector"))
        if let hint = modelHint { w.set("controlvector.model_hint", .string(hint)) }
        w.set("controlvector.layer_count", .int32(Int32(layerCount)))
        for layer in directions.keys.sorted() where layer >= 0 {
            try w.addTensor(name: "direction.\(layer)", shape: [directions[layer]!.count], values: directions[layer]!)
        }
        try w.write(to: url)
    }
}
