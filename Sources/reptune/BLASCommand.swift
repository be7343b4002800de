import Engine
import Foundation

/// `reptune blas`: which OpenBLAS build and kernel set the engine runs on.
enum BLASCommand {
    static let spec = Arguments.Spec(
        usage: "blas [--core-type]",
        summary: "the OpenBLAS build and the kernel set in use (--core-type: the name alone, for OPENBLAS_CORETYPE)",
        flags: ["core-type"])

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        let env = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        let detected = ProcessInfo.processInfo.environment["REPTUNE_BLAS_DETECTED"]
        if a.flags.contains("core-type") { return print(BLASCore.current) }
        if a.flags.contains("json") {
            return try printJSON(["core": BLASCore.current, "configuration": BLASCore.configuration,
                                  "OPENBLAS_CORETYPE": env ?? "",
                                  "detected": detected ?? ""])
        }
        print("OpenBLAS: \(BLASCore.configuration)")
        let why = detected.map { " (chosen by reptune: OpenBLAS detected \($0), slower than what this processor runs)" }
            ?? env.map { " (OPENBLAS_CORETYPE=\($0))" } ?? " (OpenBLAS's own choice)"
        print("kernels:  \(BLASCore.current)" + why)
    }
}
