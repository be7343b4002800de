import Foundation
import Pipeline

/// One option of a command, declared once: its name, the kind of value it takes (which fixes how it is parsed,
/// validated and completed), its default, its help line and the name its value goes by in the usage.
public struct Option: Sendable {
    /// What an option takes.
    public enum Kind: Sendable {
        /// No value: present or absent.
        case flag
        /// Any text.
        case text
        /// A path to a file (completed with file names).
        case file
        /// A path to a directory (completed with directory names).
        case directory
        /// An integer in the range.
        case integer(ClosedRange<Int>)
        /// Comma-separated integers in the range (`--capture 0,7,15`).
        case integers(ClosedRange<Int>)
        /// A number in the range, or (nil) any finite fp32 number.
        case number(ClosedRange<Double>?)
        /// One of the words.
        case choice([String])
        /// A comma-separated list of the words (`--format md,csv`).
        case choices([String])
    }

    public var name: String
    public var kind: Kind
    /// The value used when the option is not given, written as on the command line (checked like a given value).
    public var defaultValue: String?
    public var help: String
    /// What the usage calls the value (`N`, `DIR`, `auto|native|fp32`).
    public var valueName: String
    /// Whether the command refuses to run without it.
    public var required: Bool

    public init(_ name: String, _ kind: Kind, default defaultValue: String? = nil, value valueName: String? = nil,
                required: Bool = false, _ help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.required = required
        self.valueName = valueName ?? Self.valueName(of: kind)
    }

    public var takesValue: Bool { if case .flag = kind { false } else { true } }

    /// `--name VALUE` (or `--name` for a flag).
    public var synopsis: String { takesValue ? "--\(name) \(valueName)" : "--\(name)" }

    /// The words a value may be, for a choice (completion).
    public var words: [String]? {
        switch kind {
        case .choice(let w), .choices(let w): w
        default: nil
        }
    }

    static func valueName(of kind: Kind) -> String {
        switch kind {
        case .flag: ""
        case .text: "TEXT"
        case .file: "FILE"
        case .directory: "DIR"
        case .integer: "N"
        case .integers: "N,..."
        case .number: "X"
        case .choice(let words): words.joined(separator: "|")
        case .choices(let words): words.joined(separator: ",")
        }
    }

    /// `--json`: machine-readable output; offered only by the commands that honour it.
    public static let json = Option("json", .flag, "machine-readable output (JSON on stdout)")

    /// The typed value of `text` given to this option, or the error that names the option, the text and what was
    /// expected.
    func value(of text: String) throws(CLIError) -> OptionValue {
        func refuse(_ expected: String) -> CLIError { CLIError("--\(name) \(text): expected \(expected)") }
        switch kind {
        case .flag:
            throw CLIError("option --\(name) takes no value (found --\(name)=\(text))")
        case .text, .file, .directory:
            return .text(text)
        case .integer(let range):
            guard let n = Int(text), range.contains(n) else { throw refuse("an integer in \(range.lowerBound)...\(range.upperBound)") }
            return .integer(n)
        case .integers(let range):
            var list = [Int]()
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let n = Int(part.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                    throw refuse("comma-separated integers in \(range.lowerBound)...\(range.upperBound)")
                }
                list.append(n)
            }
            return .integers(list)
        case .number(let range):
            guard let x = Double(text), x.isFinite, range.map({ $0.contains(x) }) ?? (abs(x) <= Double(Float.greatestFiniteMagnitude)) else {
                throw refuse(range.map { "a number in \(Self.show($0.lowerBound))...\(Self.show($0.upperBound))" }
                             ?? "a finite fp32 number (|x| ≤ 3.4e38)")
            }
            return .number(x)
        case .choice(let words):
            guard words.contains(text) else {
                let hint = Self.nearMiss(text, in: words).map { "; did you mean \($0)?" } ?? ""
                throw refuse(Self.alternatives(words) + hint)
            }
            return .text(text)
        case .choices(let words):
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if let bad = parts.first(where: { !words.contains($0) }) {
                let hint = Self.nearMiss(bad, in: words).map { "; did you mean \($0)?" } ?? ""
                throw refuse("one of \(words.joined(separator: ", ")), or several separated by commas (\"\(bad)\" is none of them)\(hint)")
            }
            return .words(parts)
        }
    }

    /// "a, b or c".
    static func alternatives(_ words: [String]) -> String {
        words.count < 2 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    /// A bound as a person writes it: `1000000` rather than `1000000.0`.
    static func show(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }

    static func nearMiss(_ name: String, in candidates: [String]) -> String? { NearMiss.closest(to: name, in: candidates) }
}

/// A parsed option value.
enum OptionValue: Sendable {
    case text(String)
    case integer(Int)
    case integers([Int])
    case number(Double)
    case words([String])
}
