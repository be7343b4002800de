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
    /// Only a regular file is read, and every value must be a finite fp32 number.
    public init(contentsOf url: URL) throws {
        do { try InputFile.check(url, what: "control vector", maxBytes: InputFile.Limit.smallText) } catch {
            throw ModelLoadError(file: url.path, "expected \(error.expected) (a control-vector GGUF or a JSON array of numbers), found \(error.found)")
        }
        let head = try FileHandle(forReadingFrom: url).read(upToCount: 4) ?? Data()
        if head == Data("GGUF".utf8) {
            let file = try GGUFFile(contentsOf: url)
            var directions = [Int: [Float]]()
            for t in file.tensors where t.name.hasPrefix("direction.") {
                guard let layer = Int(t.name.dropFirst("direction.".count)) else {
                    throw ModelLoadError(file: url.path, "tensor \(t.name): expected direction.<layer number>")
                }
                let values = try file.dequantize(t.name)
                if let bad = values.firstIndex(where: { !$0.isFinite }) {
                    throw ModelLoadError(file: url.path, "tensor \(t.name): value \(bad) is \(values[bad]), not a finite number")
                }
                directions[layer] = values
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
        if let bad = values.firstIndex(where: { !$0.floatValue.isFinite }) {
            throw ModelLoadError(file: url.path, "value \(bad) (\(values[bad])) is not a finite fp32 number (|x| ≤ 3.4e38)")
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

    /// The directions as llama.cpp's control-vector loader takes them (`common_control_vector_load_one`): it numbers
    /// directions from 1 — `direction.N` is added to the output of block N, as here — and refuses a whole file that
    /// holds `direction.0`, since it never steers block 0's output. `layers` picks directions (nil = every one the
    /// loader accepts, block 0 left out and returned in `skipped`); asking for block 0, or for a block the file has
    /// no direction for, is an error saying why.
    public func forLlamaCpp(layers: [Int]? = nil) throws -> (file: ControlVectorFile, skipped: [Int]) {
        let available = directions.keys.filter { $0 >= 0 }.sorted()
        if let layers {
            if layers.contains(0) {
                throw ControlVectorExportError("block 0: llama.cpp numbers control-vector directions from 1 and never steers block 0's output (a file with direction.0 is refused whole); leave 0 out")
            }
            if let missing = layers.first(where: { directions[$0] == nil }) {
                throw ControlVectorExportError("block \(missing): the vectors have no direction for it (they have blocks \(available.map(String.init).joined(separator: ", ")))")
            }
        }
        let chosen = (layers ?? available).filter { $0 >= 1 }
        guard !chosen.isEmpty else {
            throw ControlVectorExportError("no direction llama.cpp can load: it takes blocks 1 and up, and the vectors have only block 0")
        }
        return (ControlVectorFile(directions: Dictionary(uniqueKeysWithValues: chosen.map { ($0, directions[$0]!) }), modelHint: modelHint),
                layers == nil ? available.filter { $0 < 1 } : [])
    }

    /// Writes the directions as a control-vector GGUF: `general.architecture = controlvector`, one 1-D F32 tensor
    /// `direction.N` per block, `controlvector.layer_count` = `layerCount`. (For llama.cpp, write `forLlamaCpp().file`:
    /// its loader refuses `direction.0`.)
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

/// A control-vector export llama.cpp would refuse, and why.
public struct ControlVectorExportError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
