import Experiments
import Foundation
import ModelFormats

/// The file a `collect_activations` stage stores: a safetensors file with one `[prompts × width]` F32 tensor per
/// (group, layer, position) named `positive.L{layer}.o{offset}` / `negative.L{layer}.o{offset}` (offset = tokens
/// before the last prompt token, 0 = last). Positive = the honest member of each contrast pair (or the true
/// statements in plain mode); row i of both groups is pair i in paired mode. Readable from Python with
/// `safetensors.numpy.load_file`.
public struct ActivationArtifact: Sendable, Equatable {
    public var layers: [Int]
    public var offsets: [Int]
    /// Offset → honest-side activations.
    public var positive: [Int: ActivationMatrix]
    /// Offset → dishonest-side activations.
    public var negative: [Int: ActivationMatrix]
    /// Whether row i of `positive` and `negative` are one pair.
    public var paired: Bool

    public init(layers: [Int], offsets: [Int], positive: [Int: ActivationMatrix], negative: [Int: ActivationMatrix], paired: Bool) {
        self.layers = layers
        self.offsets = offsets
        self.positive = positive
        self.negative = negative
        self.paired = paired
    }

    public func write(to url: URL) throws {
        var tensors: [SafeTensorsWriter.Tensor] = []
        for o in offsets {
            for (group, set) in [("positive", positive[o]!), ("negative", negative[o]!)] {
                for l in layers {
                    tensors.append((name: "\(group).L\(l).o\(o)", shape: [set.count, set.width], values: set.rows[l]!, dtype: .f32))
                }
            }
        }
        try SafeTensorsWriter.write(tensors: tensors, metadata: [
            "layers": layers.map(String.init).joined(separator: ","),
            "offsets": offsets.map(String.init).joined(separator: ","),
            "paired": paired ? "true" : "false",
        ], to: url)
    }

    public init(contentsOf url: URL) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        func ints(_ key: String) throws -> [Int] {
            guard let text = file.metadata[key] else {
                throw StageInputError("\(url.path): activation file lacks the `\(key)` metadata entry")
            }
            return text.split(separator: ",").compactMap { Int($0) }
        }
        layers = try ints("layers")
        offsets = try ints("offsets")
        paired = file.metadata["paired"] == "true"
        var positive = [Int: ActivationMatrix](), negative = [Int: ActivationMatrix]()
        for o in offsets {
            for group in ["positive", "negative"] {
                var rows = [Int: [Float]](), width = 0, count = 0
                for l in layers {
                    let name = "\(group).L\(l).o\(o)"
                    guard let info = file.tensors[name], info.shape.count == 2 else {
                        throw StageInputError("\(url.path): tensor \(name) is missing or not 2-D")
                    }
                    count = info.shape[0]
                    width = info.shape[1]
                    rows[l] = try file.floats(named: name)
                }
                let m = ActivationMatrix(layers: layers, width: width, rows: rows, count: count)
                if group == "positive" { positive[o] = m } else { negative[o] = m }
            }
        }
        self.positive = positive
        self.negative = negative
    }
}
