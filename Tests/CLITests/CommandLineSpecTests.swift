import CommandLineSpec
import Engine
import Foundation
import Testing
import TestSupport

/// The declared command line, in process: parsing, checking, help, suggestions and completion all come from the
/// option tables of `ReptuneCommands`.
struct CommandLineSpecTests {
    func spec(_ name: String) throws -> CommandSpec { try #require(ReptuneCommands.named(name)) }

    func printed(_ argv: [String]) throws -> (text: String, status: Int32) {
        guard case .print(let text, let status) = try Invocation.resolve(argv) else {
            Issue.record("\(argv) should print, not run")
            return ("", -1)
        }
        return (text, status)
    }

    /// The error `argv` is refused with (the text printed on stderr) and its exit status.
    func refused(_ argv: [String]) -> (message: String, status: Int32) {
        do {
            _ = try Invocation.resolve(argv)
            Issue.record("\(argv) should be refused")
            return ("", 0)
        } catch {
            return (error.message, error.error.exitCode)
        }
    }

    @Test func helpIsGeneratedFromTheOptionTable() throws {
        let run = try printed(["run", "--help"])
        #expect(run.status == 0)
        #expect(run.text.hasPrefix("usage: reptune run MANIFEST [--results DIR] [--only STAGE,...] [--force STAGE,...] [--dry-run]"), "\(run.text)")
        for o in try spec("run").options { #expect(run.text.contains("  " + o.synopsis), "\(o.name) in \(run.text)") }
        #expect(run.text.contains("--jobs N") && run.text.contains("stages run side by side (default: 1)"), "\(run.text)")
        #expect(run.text.contains("-h, --help"))
        // `help CMD`, `CMD --help` and `CMD -h` (anywhere among its arguments) print the same text.
        let report = try printed(["help", "report"])
        let short = try printed(["report", "-h"]), amid = try printed(["report", "DIR", "--bogus", "--help"])
        #expect(report.status == 0 && report.text == short.text && report.text == amid.text)
        #expect(report.text.contains("--format md,csv,tex,html,svg,json") && report.text.contains("(default: md,csv,html,svg)"), "\(report.text)")
        // Required options appear without brackets in the usage line.
        #expect(try spec("results").usage().contains(" --stage ID [--format table|csv|json|md]"))
    }

    @Test func usageAndVersion() throws {
        let bare = try printed([])
        #expect(bare.status == 2 && bare.text.contains("usage: reptune COMMAND"))
        let help = try printed(["--help"])
        let helpCommand = try printed(["help"])
        #expect(help.status == 0 && help.text == bare.text && helpCommand.text == bare.text)
        for c in ReptuneCommands.all { #expect(help.text.contains("\n  \(c.name) "), "\(c.name)") }
        let version = try printed(["--version"])
        #expect(version.status == 0 && version.text == "reptune \(ReptuneVersion.number) (engine version \(EngineVersion.current))")
    }

    @Test func valuesParseAndDefaultsApply() throws {
        let a = try spec("generate").parse(["m.gguf", "--prompt", "hi there", "--max-tokens=12", "--bos", "--mult", "-5", "--json"])
        #expect(a.positional == ["m.gguf"] && a.string("prompt") == "hi there" && a.int("max-tokens") == 12)
        #expect(a.flag("bos") && !a.flag("no-special") && a.json && a.float("mult") == -5)
        // Not given: the declared default, and isGiven says it was not written.
        #expect(a.double("temperature") == 0 && a.double("top-p") == 1 && a.string("positions") == "all" && !a.isGiven("positions"))
        #expect(a.string("chat") == nil && a.int("layer") == nil)
        let f = try spec("forward").parse(["--capture", "0, 7,15", "--prompt", "x"])
        #expect(f.ints("capture") == [0, 7, 15] && f.int("top") == 10)
        let r = try spec("report").parse(["--format", "md,tex"])
        #expect(r.words("format") == ["md", "tex"])
        // `--` ends the options: what follows is positional, even `--help`.
        let t = try spec("tokenize").parse(["--", "--help"])
        #expect(t.positional == ["--help"])
        if case .run(let parsed) = try Invocation.resolve(["tokenize", "--", "-h"]) { #expect(parsed.positional == ["-h"]) }
        else { Issue.record("tokenize -- -h should run") }
    }

    @Test func badValuesAreNamedWithWhatWasExpected() throws {
        let cases: [([String], String)] = [
            (["generate", "--max-tokens", "9223372036854775807"], "--max-tokens 9223372036854775807: expected an integer in 1...1048576"),
            (["generate", "--mult", "1e308"], "--mult 1e308: expected a finite fp32 number (|x| ≤ 3.4e38)"),
            (["generate", "--top-p", "nan"], "--top-p nan: expected a number in 0...1"),
            (["generate", "--weights", "natve"], "--weights natve: expected auto, native or fp32; did you mean native?"),
            (["forward", "--capture", "1,x"], "--capture 1,x: expected comma-separated integers in 0...4095"),
            (["report", "--format", "md,pdf"], "--format md,pdf: expected one of md, csv, tex, html, svg, json, or several separated by commas (\"pdf\" is none of them)"),
            (["datasets", "fetch", "--timeout", "0"], "--timeout 0: expected a number in 0.001...1000000"),
            (["run", "m.json", "--results", "--dry-run"], "option --results needs a value, found the option --dry-run (write --results=--dry-run if that is the value)"),
            (["run", "m.json", "--jobs"], "option --jobs needs a value (N)"),
            (["run", "m.json", "--dry-run=yes"], "option --dry-run takes no value (found --dry-run=yes)"),
            (["run", "m.json", "--only", "a", "--only", "b"], "option --only is given twice (a and b)"),
            (["run"], "missing MANIFEST: the experiment manifest"),
            (["run", "a.json", "b.json"], "unexpected argument \"b.json\" (run takes MANIFEST)"),
            (["results", "DIR"], "missing --stage ID: the stage"),
            (["completion", "fish"], "--"),   // not reached: see below
        ]
        for (argv, expected) in cases.dropLast() {
            let r = refused(argv)
            #expect(r.status == 2 && r.message.hasPrefix("reptune \(argv[0]): \(expected)"), "\(argv): \(r.message)")
            #expect(r.message.contains("\nusage: reptune \(argv[0])"), "a usage error shows the usage: \(r.message)")
        }
        #expect(refused(["completion", "fish"]).message.hasPrefix("reptune completion: completion fish: expected bash or zsh"))
    }

    @Test func unknownOptionsAndCommandsSuggestANearMiss() throws {
        #expect(refused(["generate", "--wieghts", "fp32"]).message.hasPrefix("reptune generate: unknown option --wieghts; did you mean --weights?"))
        #expect(refused(["forward", "--promt", "x"]).message.hasPrefix("reptune forward: unknown option --promt; did you mean --prompt?"))
        #expect(refused(["run", "m.json", "--dryrun"]).message.hasPrefix("reptune run: unknown option --dryrun; did you mean --dry-run?"))
        let far = refused(["blas", "--zzzzzz"])
        #expect(far.status == 2 && far.message.hasPrefix("reptune blas: unknown option --zzzzzz (valid: --core-type, --json, --help)"), "\(far.message)")
        let command = refused(["generat"])
        #expect(command.status == 2 && command.message.hasPrefix("reptune: unknown command \"generat\" (did you mean \"generate\"?)"))
        #expect(refused(["help", "reprot"]).message == "reptune: unknown command \"reprot\" (did you mean \"report\"?)")
    }

    /// `--json` is offered by exactly the commands whose runner prints JSON with it; the others refuse it.
    @Test func jsonIsOfferedWhereItIsHonoured() throws {
        let honoured: Set = ["inspect", "tokenize", "forward", "generate", "bench", "blas", "datasets", "run", "resume", "query",
                             "results", "report", "export"]
        #expect(Set(ReptuneCommands.all.filter(\.takesJSON).map(\.name)) == honoured)
        for name in ["status", "gc", "pack"] {
            #expect(refused([name, "--json"]).message.hasPrefix("reptune \(name): unknown option --json"))
        }
    }

    /// The table itself: unique names, defaults that pass their own checks, required arguments before optional
    /// repeated ones.
    @Test func everyDeclarationIsConsistent() throws {
        #expect(Set(ReptuneCommands.all.map(\.name)).count == ReptuneCommands.all.count)
        for c in ReptuneCommands.all {
            #expect(Set(c.options.map(\.name)).count == c.options.count, "\(c.name): an option declared twice")
            #expect(!c.summary.isEmpty && c.options.allSatisfy { !$0.help.isEmpty && ($0.takesValue == !$0.valueName.isEmpty) }, "\(c.name)")
            #expect(c.arguments.dropLast().allSatisfy { !$0.repeated }, "\(c.name): only the last argument repeats")
            for o in c.options {
                guard let d = o.defaultValue else { continue }
                // A default parses like a given value.
                let required = c.options.filter { $0.required && $0.name != o.name }.flatMap { ["--\($0.name)", "x"] }
                let parsed = try c.parse(c.arguments.filter { !$0.optional }.map { _ in "x" } + required + ["--\(o.name)", d])
                #expect(parsed.isGiven(o.name), "\(c.name) --\(o.name) \(d)")
            }
        }
    }

    @Test func bashCompletionCompletesCommandsOptionsAndChoices() throws {
        let script = Completion.bash(ReptuneCommands.all)
        #expect(script.contains("complete -o filenames -F _reptune reptune"))
        #expect((try printed(["completion", "bash"])).text == script)
        guard FileManager.default.isExecutableFile(atPath: "/bin/bash") else {
            print("SKIPPED (bash completion run): /bin/bash is not here")
            return
        }
        let dir = try Fixtures.temporaryDirectory("completion")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("reptune.bash")
        try Data(script.utf8).write(to: file)
        try Data().write(to: dir.appendingPathComponent("plan.json"))
        /// What completing the last word of `words` offers, as bash computes it after sourcing the script.
        func complete(_ words: [String]) throws -> [String] {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.currentDirectoryURL = dir
            p.arguments = ["--norc", "-c", "source '\(file.path)'; COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); _reptune; printf '%s\\n' \"${COMPREPLY[@]}\""]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "bash exited \(p.terminationStatus) for \(words)")
            return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).sorted()
        }
        #expect(try complete(["reptune", "gen"]) == ["generate"])
        #expect(try complete(["reptune", "re"]) == ["report", "results", "resume"])
        #expect(try complete(["reptune", "run", "--dr"]) == ["--dry-run"])
        #expect(try complete(["reptune", "inspect", "--weights", ""]) == ["auto", "fp32", "native"])
        #expect(try complete(["reptune", "query", "--format", "=", "c"]) == ["csv"])
        #expect(try complete(["reptune", "help", "ex"]) == ["export"])
        #expect(try complete(["reptune", "completion", "z"]) == ["zsh"])
        #expect(try complete(["reptune", "run", "pl"]) == ["plan.json"])
        #expect(try complete(["reptune", "status", "--"]) == ["--help"])
        #expect(try complete(["reptune", "generate", "--max-tokens", ""]) == [])
    }

    @Test func zshCompletionDeclaresEveryOption() throws {
        let script = Completion.zsh(ReptuneCommands.all)
        let printedScript = try printed(["completion", "zsh"])
        #expect(script.hasPrefix("#compdef reptune\n") && printedScript.text == script)
        for c in ReptuneCommands.all {
            #expect(script.contains("\n        \(c.name)) _arguments"), "\(c.name)")
            for o in c.options { #expect(script.contains("'--\(o.name)\(o.takesValue ? "=" : "")["), "\(c.name) --\(o.name)") }
        }
        #expect(script.contains("'--weights=[how the weights are held"))
        #expect(script.contains(":auto|native|fp32:(auto native fp32)'"))
        guard let zsh = ["/bin/zsh", "/usr/bin/zsh"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            print("SKIPPED (zsh syntax check): zsh is not installed")
            return
        }
        let dir = try Fixtures.temporaryDirectory("completion-zsh")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("_reptune")
        try Data(script.utf8).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: zsh)
        p.arguments = ["-n", file.path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "zsh -n rejects the script")
    }
}

/// README's command-line section shows the usage `reptune --help` prints.
struct CommandLineReadmeTests {
    @Test func readmeShowsTheGeneratedUsage() throws {
        let readme = try String(contentsOf: Fixtures.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("```\n\(Invocation.usage)\n```\n"),
                "README.md's command-line block differs from `reptune --help`: paste that command's output between the fences")
    }
}
