import Engine
import Foundation

// reptune's command line: parses, calls the library, prints. Every command lives in its own file.
let commands: [String: (Arguments.Spec, ([String]) throws -> Void)] = [
    "inspect": (InspectCommand.spec, InspectCommand.run),
    "bench": (BenchCommand.spec, BenchCommand.run),
    "tokenize": (TokenizeCommand.spec, TokenizeCommand.run),
    "forward": (ForwardCommand.spec, ForwardCommand.run),
    "generate": (GenerateCommand.spec, GenerateCommand.run),
    "datasets": (DatasetsCommand.spec, DatasetsCommand.run),
    "run": (RunCommand.spec, RunCommand.run),
    "resume": (RunCommand.resumeSpec, RunCommand.resume),
    "status": (StoreCommands.status, StoreCommands.runStatus),
    "query": (StoreCommands.query, StoreCommands.runQuery),
    "results": (StoreCommands.results, StoreCommands.runResults),
    "gc": (StoreCommands.gc, StoreCommands.runGC),
    "pack": (StoreCommands.pack, StoreCommands.runPack),
    "report": (ReportCommand.spec, ReportCommand.run),
    "export": (ExportCommand.spec, ExportCommand.run),
    "blas": (BLASCommand.spec, BLASCommand.run),
]

@MainActor func usage() -> String {
    """
    reptune — activation steering and representation tuning on a built-in transformer engine

    usage: reptune <command> [arguments]

    \(commands.keys.sorted().map { "  \(commands[$0]!.0.usage)\n      \(commands[$0]!.0.summary)" }.joined(separator: "\n"))

    MODEL defaults to models/SmolLM2-135M-Instruct.Q4_1.gguf (fetched by `make setup`).
    Every command takes --json for machine-readable output.
    """
}

// OpenBLAS reads OPENBLAS_CORETYPE when it loads: on a processor it misdetects, restart once with the kernel set
// the processor supports (BLASCore; the variable is then set, so there is no second restart).
if let core = BLASCore.overrideForThisProcess() {
    setenv("REPTUNE_BLAS_DETECTED", BLASCore.current, 1)
    setenv("OPENBLAS_CORETYPE", core, 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}
ProcessMemory.keepFreedBuffers()
let argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, name != "--help", name != "-h", name != "help" || argv.count > 1 else {
    print(usage())
    exit(argv.isEmpty ? 2 : 0)
}
if name == "help" {
    if let c = commands[argv[1]] { print("usage: reptune \(c.0.usage)\n\n\(c.0.summary)"); exit(0) }
    FileHandle.standardError.write(Data("reptune: unknown command \"\(argv[1])\"\n".utf8))
    exit(2)
}
guard let command = commands[name] else {
    let suggestion = commands.keys.min { editDistance($0, name) < editDistance($1, name) }.map { " (did you mean \"\($0)\"?)" } ?? ""
    FileHandle.standardError.write(Data("reptune: unknown command \"\(name)\"\(suggestion)\n\n\(usage())\n".utf8))
    exit(2)
}
do {
    try command.1(Array(argv.dropFirst()))
} catch let error as CLIError {
    // A usage error (status 2) shows the command's usage too.
    let usage = error.exitCode == 2 ? "\nusage: reptune \(command.0.usage)" : ""
    FileHandle.standardError.write(Data("reptune \(name): \(error.description)\(usage)\n".utf8))
    exit(error.exitCode)
} catch {
    FileHandle.standardError.write(Data("reptune \(name): \(error)\n".utf8))
    exit(1)
}
