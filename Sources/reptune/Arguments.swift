import Engine
import Foundation

/// The command line after the subcommand: positional values and `--name value` / `--flag` options.
/// Unknown options are errors that name the option and list the valid ones.
struct Arguments {
    var positional: [String] = []
    var options: [String: String] = [:]
    var flags: Set<String> = []

    /// Parses `args` given which options take a value and which are bare flags.
    init(_ args: [String], valued: Set<String>, flags allowedFlags: Set<String>) throws {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") && a.count > 2 {
                var name = String(a.dropFirst(2))
                var inline: String?
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                if valued.contains(name) {
                    if let inline {
                        options[name] = inline
                    } else {
                        guard i + 1 < args.count else { throw CLIError("option --\(name) needs a value") }
                        // `--results --dry-run` must not take `--dry-run` as the directory (and run for real).
                        let next = args[i + 1]
                        if next.hasPrefix("--"), valued.union(allowedFlags).contains(String(next.dropFirst(2).prefix { $0 != "=" })) {
                            throw CLIError("option --\(name) needs a value, found the option \(next) (write --\(name)=\(next) if that is the value)")
                        }
                        options[name] = next
                        i += 1
                    }
                } else if allowedFlags.contains(name) {
                    flags.insert(name)
                } else {
                    let known = (valued.union(allowedFlags)).sorted().map { "--\($0)" }.joined(separator: ", ")
                    throw CLIError("unknown option --\(name) (valid: \(known.isEmpty ? "none" : known))")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    /// The integer value of `--name` within `range` (every integer option declares one), or nil when absent.
    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = options[name] else { return nil }
        guard let n = Int(v), range.contains(n) else {
            throw CLIError("--\(name) \(v): expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// The number value of `--name` within `range`, or nil when absent.
    func float(_ name: String, in range: ClosedRange<Float> = -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude) throws -> Float? {
        guard let v = options[name] else { return nil }
        guard let n = Float(v), n.isFinite, range.contains(n) else {
            let within = range == -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude
                ? "a finite fp32 number (|x| ≤ 3.4e38)" : "a number in \(range.lowerBound)...\(range.upperBound)"
            throw CLIError("--\(name) \(v): expected \(within)")
        }
        return n
    }

    /// `--weights auto|native|fp32` (default auto).
    func weightsPolicy() throws -> WeightsPolicy {
        guard let v = options["weights"] else { return .auto }
        guard let p = WeightsPolicy(rawValue: v) else {
            throw CLIError("--weights \(v): expected auto, native or fp32")
        }
        return p
    }

    /// A comma-separated list of integers within `range` (`--capture 0,7,15`).
    func ints(_ name: String, in range: ClosedRange<Int>) throws -> [Int]? {
        guard let v = options[name] else { return nil }
        return try v.split(separator: ",", omittingEmptySubsequences: false).map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                throw CLIError("--\(name) \(v): expected comma-separated integers in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
    }
}

/// A usage error or a failure reported to the user (printed to stderr, exit status 1 or 2).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32
    init(_ message: String, exitCode: Int32 = 2) {
        description = message
        self.exitCode = exitCode
    }
}

extension Arguments {
    /// A command's options and help text.
    struct Spec {
        var usage: String
        var summary: String
        var valued: Set<String> = []
        var flags: Set<String> = []

        func parse(_ args: [String]) throws -> Arguments {
            try Arguments(args, valued: valued, flags: flags.union(["json"]))
        }
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1...max(b.count, 1) where !b.isEmpty {
            let saved = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = saved
        }
    }
    return a.isEmpty ? b.count : row[b.count]
}

/// Prints a value as pretty JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
