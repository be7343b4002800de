import Foundation
import ModelFormats

/// A tuned model as one standalone GGUF: the base file's metadata (tokenizer and chat template included, in its
/// order) and every tensor of the base file, where those a variant file (`RepresentationTuner.writeVariant`)
/// holds are replaced by the variant's F32 values and every other tensor is copied byte for byte in its stored
/// type. Loading the result gives exactly `base.applying(variant:)`.
public enum VariantExport {
    /// Writes the merged model to `url` (atomically). Extra metadata (`reptune.*` provenance) is appended.
    public static func write(base: GGUFFile, variant: GGUFFile, to url: URL, extraMetadata: [(String, GGUFValue)] = []) throws {
        var replaced: [String: GGUFTensorInfo] = [:]
        for t in variant.tensors {
            guard let b = base.tensor(named: t.name) else {
                throw ModelLoadError(file: variant.url.path, "tensor \(t.name): the base model \(base.url.path) has no tensor of this name")
            }
            guard b.shape == t.shape else {
                throw ModelLoadError(file: variant.url.path, "tensor \(t.name): shape \(t.shape), but the base model's is \(b.shape)")
            }
            replaced[t.name] = t
        }
        var w = GGUFWriter(alignment: base.alignment)
        for key in base.metadataKeys { w.set(key, base.metadata[key]!) }
        for (key, value) in extraMetadata { w.set(key, value) }
        for t in base.tensors {
            if let v = replaced[t.name] {
                try w.addTensor(name: t.name, shape: t.shape, values: try variant.dequantize(v.name))
            } else {
                try w.addRawTensor(name: t.name, shape: t.shape, type: t.type, bytes: base.bytes(of: t))
            }
        }
        try w.write(to: url)
    }
}
