import CBLAS
import Foundation

/// Which OpenBLAS kernel set runs the engine's matrix products, and the correction for a misdetected processor.
///
/// Debian 12's OpenBLAS (0.3.21) does not recognise some newer x86-64 server processors and falls back to its
/// SSE3 `Prescott` kernels, several times slower than the AVX2 or AVX-512 kernels the processor can run. `reptune`
/// then restarts itself with `OPENBLAS_CORETYPE` naming the best kernel set the processor's flags allow (the
/// variable must be set before OpenBLAS loads). A value the user set is never changed.
public enum BLASCore {
    /// The kernel set OpenBLAS chose at load (`openblas_get_corename`), e.g. "Haswell", "SkylakeX", "Zen".
    public static var current: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS's build configuration line (version, threading, DYNAMIC_ARCH).
    public static var configuration: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }

    /// Kernel sets OpenBLAS falls back to on processors it does not know: pre-AVX2 generations.
    static let fallbacks: Set<String> = ["prescott", "katmai", "coppermine", "northwood", "banias", "atom", "core2",
                                         "penryn", "dunnington", "nehalem", "sandybridge", "unknown"]

    /// The kernel set to ask for instead of `current`, or nil when OpenBLAS's choice stands: `OPENBLAS_CORETYPE` is
    /// already set, OpenBLAS chose a modern kernel set, or the processor has nothing better. AVX-512 (F, BW, DQ, VL)
    /// → `SkylakeX`; AVX2 with FMA → `Haswell`.
    public static func override(current: String, cpuFlags: Set<String>, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, fallbacks.contains(current.lowercased()) else { return nil }
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The processor's feature flags from the first `flags` line of `/proc/cpuinfo` (empty where there is none).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// The correction for this process: the kernel set to restart with, if any.
    public static func overrideForThisProcess() -> String? {
        override(current: current, cpuFlags: cpuFlags(), environment: ProcessInfo.processInfo.environment)
    }
}
