import Foundation

/// What the processor can run, read once from `/proc/cpuinfo`. The `QuantizedKernels` module is compiled for
/// AVX2 + FMA + F16C; the engine calls into it only when `hasAVX2` is true and otherwise takes portable paths
/// (file dequantizer + sgemm), so the same binary runs on any x86-64 processor.
public enum CPUFeatures {
    /// Whether the processor has AVX2, FMA and F16C (false when `/proc/cpuinfo` cannot be read).
    public static let hasAVX2: Bool = {
        guard ProcessInfo.processInfo.environment["REPTUNE_NO_AVX2"] == nil else { return false }
        return flags.isSuperset(of: ["avx2", "fma", "f16c"])
    }()

    /// The processor's feature flags (empty when unknown).
    public static let flags: Set<String> = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " ").map(String.init))
    }()
}
