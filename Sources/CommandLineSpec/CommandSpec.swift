import Foundation

/// One command of `reptune`, declared once: its positional arguments, a summary and its option table. Parsing,
/// validation, the usage line, `--help`, and shell completion all come from this declaration.
public struct CommandSpec: Sendable {
    /// A positional argument.
    public struct Argument: Sendable {
        /// What completion offers for it.
        public enum Completion: Sendable { case file, directory, words([String]), commands, none }

        public var name: String
        public var help: String
        public var optional: Bool
        /// Whether it takes any number of values (the last argument only).
        public var repeated: Bool
        public var completion: Completion

        public init(_ name: String, optional: Bool = false, repeated: Bool = false, completion: Completion = .file, _ help: String) {
            self.name = name
            self.help = help
            self.optional = optional
            self.repeated = repeated
            self.completion = completion
        }

        var synopsis: String {
            let core = repeated ? "\(name) ..." : name
            return optional ? "[\(core)]" : core
        }
    }

    public var name: String
    public var summary: String
    public var arguments: [Argument]
    public var options: [Option]

    public init(_ name: String, arguments: [Argument] = [], summary: String, options: [Option] = []) {
        self.name = name
        self.summary = summary
        self.arguments = arguments
        self.options = options
    }

    /// Whether the command honours `--json`.
    public var takesJSON: Bool { option("json") != nil }

    public func option(_ name: String) -> Option? { options.first { $0.name == name } }

    /// `reptune NAME ARGS [--option VALUE] ...`, wrapped at `width` columns.
    public func usage(width: Int = 100) -> String {
        let words = ["reptune", name] + arguments.map(\.synopsis)
            + options.map { $0.required ? $0.synopsis : "[\($0.synopsis)]" }
        var lines = [String](), line = ""
        let indent = String(repeating: " ", count: "reptune \(name) ".count)
        for w in words {
            if line.isEmpty {
                line = w
            } else if line.count + 1 + w.count > width {
                lines.append(line)
                line = indent + w
            } else {
                line += " " + w
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    /// What `reptune NAME --help` and `reptune help NAME` print.
    public var help: String {
        var rows: [(String, String)] = arguments.map { ($0.name, $0.help) }
        let argumentRows = rows.count
        for o in options {
            var text = o.help
            if let words = o.words, o.valueName != Option.valueName(of: o.kind) { text += " (one of: \(words.joined(separator: ", ")))" }
            if let d = o.defaultValue { text += " (default: \(d))" }
            if o.required { text += " (required)" }
            rows.append((o.synopsis, text))
        }
        rows.append(("-h, --help", "this help"))
        let column = min(28, (rows.map(\.0.count).max() ?? 0) + 4)
        func render(_ r: (String, String)) -> String {
            let head = "  " + r.0
            let pad = head.count + 2 <= column ? head.padding(toLength: column, withPad: " ", startingAt: 0) : head + "\n" + String(repeating: " ", count: column)
            return pad + Self.wrap(r.1, width: 100 - column, indent: column)
        }
        var text = "usage: \(usage())\n\n\(Self.wrap(summary, width: 100, indent: 0))\n"
        if argumentRows > 0 {
            text += "\narguments:\n" + rows.prefix(argumentRows).map(render).joined(separator: "\n") + "\n"
        }
        text += "\noptions:\n" + rows.dropFirst(argumentRows).map(render).joined(separator: "\n")
        return text
    }

    /// `text` broken into lines of at most `width` characters, lines after the first indented by `indent`.
    static func wrap(_ text: String, width: Int, indent: Int) -> String {
        var lines = [String](), line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = String(word)
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n" + String(repeating: " ", count: indent))
    }

    /// Parses the arguments after the command name: options (`--name VALUE`, `--name=VALUE`, `--flag`) anywhere,
    /// `--` ending them; every value checked against its option's kind, required options and the number of
    /// positional arguments checked. Errors name the option or argument (exit status 2).
    public func parse(_ args: [String]) throws(CLIError) -> ParsedArguments {
        var parsed = ParsedArguments(spec: self)
        var i = 0
        var optionsEnded = false
        while i < args.count {
            let a = args[i]
            i += 1
            if optionsEnded || !a.hasPrefix("--") || a == "-" {
                parsed.positional.append(a)
                continue
            }
            if a == "--" { optionsEnded = true; continue }
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = option(name) else { throw unknown(name) }
            guard option.takesValue else {
                if let inline { _ = try option.value(of: inline) }   // a flag with `=`: the error saying it takes none
                parsed.flags.insert(name)
                continue
            }
            guard parsed.given[name] == nil else {
                throw CLIError("option --\(name) is given twice (\(parsed.given[name]!.text) and \(inline ?? (i < args.count ? args[i] : "")))")
            }
            let text: String
            if let inline {
                text = inline
            } else {
                guard i < args.count else { throw CLIError("option --\(name) needs a value (\(option.valueName))") }
                let next = args[i]
                // `--results --dry-run` must not take `--dry-run` as the directory (and run for real).
                if next.hasPrefix("--"), next == "--" || self.option(String(next.dropFirst(2).prefix { $0 != "=" })) != nil || next == "--help" {
                    throw CLIError("option --\(name) needs a value, found the option \(next) (write --\(name)=\(next) if that is the value)")
                }
                text = next
                i += 1
            }
            parsed.given[name] = (text, try option.value(of: text))
        }
        if let missing = options.first(where: { $0.required && parsed.given[$0.name] == nil }) {
            throw CLIError("missing \(missing.synopsis): \(missing.help)")
        }
        let required = arguments.filter { !$0.optional && !$0.repeated }.count
        if parsed.positional.count < required {
            let absent = arguments.filter { !$0.optional }[parsed.positional.count]
            throw CLIError("missing \(absent.name): \(absent.help)")
        }
        if arguments.last?.repeated != true, parsed.positional.count > arguments.count {
            let extra = parsed.positional[arguments.count]
            throw CLIError("unexpected argument \"\(extra)\" (\(name) takes \(arguments.isEmpty ? "none" : arguments.map(\.synopsis).joined(separator: " ")))")
        }
        return parsed
    }

    /// The error for an option this command does not have: the near miss, or the list of its options.
    func unknown(_ name: String) -> CLIError {
        if let near = Option.nearMiss(name, in: options.map(\.name) + ["help"]) {
            return CLIError("unknown option --\(name); did you mean --\(near)?")
        }
        let valid = options.map { "--\($0.name)" } + ["--help"]
        return CLIError("unknown option --\(name) (valid: \(valid.joined(separator: ", ")))")
    }
}
