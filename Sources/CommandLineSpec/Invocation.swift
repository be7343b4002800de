import Engine
import Pipeline

/// What a `reptune` command line asks for, decided before any work: a command with its parsed arguments, or
/// text to print (usage, help, version, a completion script) and the exit status to end with.
public enum Invocation: Sendable {
    case run(ParsedArguments)
    case print(String, exitCode: Int32)

    /// `reptune 0.1.0 (engine version N)`.
    public static var version: String { "reptune \(ReptuneVersion.number) (engine version \(EngineVersion.current))" }

    /// Resolves `argv` (without the program name). `help`, `--help`/`-h` after any command, `--version` and
    /// `completion SHELL` are answered here; errors name the command or option (exit status 2).
    public static func resolve(_ argv: [String]) throws(CommandLineFailure) -> Invocation {
        guard let name = argv.first else { return .print(usage, exitCode: 2) }
        switch name {
        case "--help", "-h": return .print(usage, exitCode: 0)
        case "--version": return .print(version, exitCode: 0)
        default: break
        }
        guard let spec = ReptuneCommands.named(name) else {
            let hint = NearMiss.closest(to: name, in: ReptuneCommands.all.map(\.name)).map { " (did you mean \"\($0)\"?)" } ?? ""
            throw CommandLineFailure(command: nil, error: CLIError("unknown command \"\(name)\"\(hint)\n\n\(usage)"))
        }
        let rest = Array(argv.dropFirst())
        if rest.prefix(while: { $0 != "--" }).contains(where: { $0 == "--help" || $0 == "-h" }) {
            return .print(spec.help, exitCode: 0)
        }
        let parsed: ParsedArguments
        do { parsed = try spec.parse(rest) } catch { throw CommandLineFailure(command: spec, error: error) }
        switch name {
        case "help":
            guard let topic = parsed.positional.first else { return .print(usage, exitCode: 0) }
            guard let about = ReptuneCommands.named(topic) else {
                let hint = NearMiss.closest(to: topic, in: ReptuneCommands.all.map(\.name)).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw CommandLineFailure(command: nil, error: CLIError("unknown command \"\(topic)\"\(hint)"))
            }
            return .print(about.help, exitCode: 0)
        case "completion":
            switch parsed.positional[0] {
            case "bash": return .print(Completion.bash(ReptuneCommands.all), exitCode: 0)
            case "zsh": return .print(Completion.zsh(ReptuneCommands.all), exitCode: 0)
            case let other: throw CommandLineFailure(command: spec, error: CLIError("completion \(other): expected bash or zsh"))
            }
        default:
            return .run(parsed)
        }
    }

    /// What `reptune`, `reptune --help` and `reptune help` print.
    public static var usage: String {
        let commands = ReptuneCommands.all
        let width = (commands.map(\.name.count).max() ?? 0) + 4
        let list = commands.map {
            "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + CommandSpec.wrap($0.summary, width: 100 - width - 2, indent: width + 2)
        }
        return """
        reptune — activation steering and representation tuning on a built-in transformer engine

        usage: reptune COMMAND [ARGUMENTS] [OPTIONS]
               reptune COMMAND --help · reptune help COMMAND · reptune --version

        \(list.joined(separator: "\n"))

        MODEL defaults to models/SmolLM2-135M-Instruct.Q4_1.gguf (fetched by `make setup`), or $REPTUNE_MODEL.
        \(CommandSpec.wrap("--json (machine-readable output) is taken by: " + commands.filter(\.takesJSON).map(\.name).joined(separator: ", ") + ".", width: 100, indent: 0))
        """
    }
}

/// A command line that cannot be run: the error, and the command it was for (whose usage follows a usage error).
public struct CommandLineFailure: Error, Sendable {
    public var command: CommandSpec?
    public var error: CLIError

    public init(command: CommandSpec?, error: CLIError) {
        self.command = command
        self.error = error
    }

    /// What is printed on stderr: `reptune CMD: message`, and for a usage error (status 2) the command's usage.
    public var message: String {
        guard let command else { return "reptune: \(error.description)" }
        let usage = error.exitCode == 2 ? "\nusage: \(command.usage())" : ""
        return "reptune \(command.name): \(error.description)\(usage)"
    }
}

/// reptune's release number (`reptune --version`, next to the engine version every cache key holds).
public enum ReptuneVersion {
    public static let number = "0.1.0"
}
