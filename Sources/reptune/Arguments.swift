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
                        options[name] = args[i + 1]
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

    func int(_ name: String) throws -> Int? {
        guard let v = options[name] else { return nil }
        guard let n = Int(v) else { throw CLIError("--\(name): expected an integer, found \"\(v)\"") }
        return n
    }

    func float(_ name: String) throws -> Float? {
        guard let v = options[name] else { return nil }
        guard let n = Float(v), n.isFinite else { throw CLIError("--\(name): expected a number, found \"\(v)\"") }
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

    /// A comma-separated list of integers (`--capture 0,7,15`).
    func ints(_ name: String) throws -> [Int]? {
        guard let v = options[name] else { return nil }
        return try v.split(separator: ",").map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)) else {
                throw CLIError("--\(name): expected comma-separated integers, found \"\(v)\"")
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
