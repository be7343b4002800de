import Foundation
import ModelFormats

/// The rules llama.cpp's control-vector loader applies (`common_control_vector_load_one` in `common/common.cpp` and
/// `llama_adapter_cvec::apply`, read at b4747; restated here, not copied): every tensor is named `direction.<k>`
/// with k ≥ 1 — a file with `direction.0` or an unparsable index is skipped whole — and is a one-dimensional F32
/// tensor; all have the same length, the model's width; `direction.k` is added to the output of block k, so only
/// 1 ≤ k < block count steer anything, and two tensors for one k are summed. The loader reads no metadata, but
/// llama.cpp's own generator writes `general.architecture = controlvector` and `controlvector.layer_count`.
public enum LlamaCppControlVectorRules {
    /// The loader's rules, applied to a written file: the problems llama.cpp would refuse it (or a direction) for.
    public static func problems(_ url: URL, width: Int, blocks: Int) throws -> [String] {
        let file = try GGUFFile(contentsOf: url)
        var problems: [String] = []
        if file.metadata["general.architecture"]?.string != "controlvector" { problems.append("architecture is not controlvector") }
        var seen: Set<Int> = []
        for t in file.tensors {
            let parts = t.name.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, parts[0] == "direction", parts[1].allSatisfy(\.isNumber), let k = Int(parts[1]) else {
                problems.append("\(t.name): not direction.<layer>"); continue
            }
            if k == 0 { problems.append("direction.0: llama.cpp refuses the whole file") }
            if k >= blocks { problems.append("\(t.name): beyond the model's \(blocks) blocks (ignored)") }
            if !seen.insert(k).inserted { problems.append("\(t.name): a second tensor for one layer (llama.cpp sums them)") }
            if t.type != .f32 { problems.append("\(t.name): type \(t.type.name), not F32") }
            if t.shape.count != 1 { problems.append("\(t.name): \(t.shape.count) dimensions, not 1") }
            if t.shape.reduce(1, *) != width { problems.append("\(t.name): \(t.shape.reduce(1, *)) values, not the width \(width)") }
        }
        if file.tensors.isEmpty { problems.append("no direction tensors") }
        return problems
    }
}
