import CommandLineSpec
import Engine
import Foundation

/// `reptune blas`: which OpenBLAS build and kernel set the engine runs on.
enum BLASCommand {
    static func run(_ a: ParsedArguments) throws {
        let env = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        let detected = ProcessInfo.processInfo.environment["REPTUNE_BLAS_DETECTED"]
        if a.flag("core-type") { return print(BLASCore.current) }
        if a.json {
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
