/// How the engine holds a model file's weights.
public enum WeightsPolicy: String, Sendable, CaseIterable, Codable {
    /// fp32 when the fp32 copy is small (`fp32Limit`), native otherwise.
    case auto
    /// The file's encoding, memory-mapped and read in place by the quantized kernels (about the file's size).
    case native
    /// Every weight dequantized to fp32 at load (4 bytes a weight; the reference numerics).
    case fp32

    /// `auto` chooses fp32 up to this many bytes of fp32 weights (2 GiB: SmolLM2-135M's 0.5 GB stays fp32;
    /// Qwen2.5-0.5B's 2.5 GB and anything larger go native).
    public static let fp32Limit = 2 << 30

    /// The policy that applies to a model of `parameters` weights: `auto` resolved to `fp32` or `native`.
    public func resolved(parameters: Int) -> WeightsPolicy {
        guard self == .auto else { return self }
        return parameters * 4 <= Self.fp32Limit ? .fp32 : .native
    }
}
