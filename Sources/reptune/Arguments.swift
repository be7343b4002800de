import CommandLineSpec
import Engine
import Foundation

extension ParsedArguments {
    /// `--weights` as the engine's policy (its choices are the policy's names).
    var weightsPolicy: WeightsPolicy { WeightsPolicy(rawValue: string("weights") ?? "auto") ?? .auto }

    /// `--name` split at commas (`--only a,b`), or [] when absent.
    func list(_ name: String) -> [String] {
        string(name).map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
    }
}

/// Prints a value as pretty JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
