import CommandLineSpec
import Engine
import Foundation

// reptune's command line. The commands, their arguments and options are declared once in
// CommandLineSpec.ReptuneCommands (parsing, checking, help and completion come from there); each command's work
// is in its own file here: read the parsed arguments, call the library, print.
let runners: [String: (ParsedArguments) throws -> Void] = [
    "inspect": InspectCommand.run,
    "tokenize": TokenizeCommand.run,
    "forward": ForwardCommand.run,
    "generate": GenerateCommand.run,
    "bench": BenchCommand.run,
    "blas": BLASCommand.run,
    "datasets": DatasetsCommand.run,
    "run": RunCommand.run,
    "resume": RunCommand.resume,
    "worker": WorkerCommand.run,
    "status": StoreCommands.status,
    "query": StoreCommands.query,
    "results": StoreCommands.results,
    "report": ReportCommand.run,
    "export": ExportCommand.run,
    "gc": StoreCommands.gc,
    "pack": StoreCommands.pack,
    "serve": ServeCommand.run,
]

// OpenBLAS reads OPENBLAS_CORETYPE when it loads: on a processor it misdetects, restart once with the kernel set
// the processor supports (BLASCore; the variable is then set, so there is no second restart).
if let core = BLASCore.overrideForThisProcess() {
    setenv("REPTUNE_BLAS_DETECTED", BLASCore.current, 1)
    setenv("OPENBLAS_CORETYPE", core, 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}
ProcessMemory.keepFreedBuffers()

func fail(_ failure: CommandLineFailure) -> Never {
    FileHandle.standardError.write(Data((failure.message + "\n").utf8))
    exit(failure.error.exitCode)
}

let arguments: ParsedArguments
do {
    switch try Invocation.resolve(Array(CommandLine.arguments.dropFirst())) {
    case .print(let text, let status):
        (status == 0 ? FileHandle.standardOutput : FileHandle.standardError).write(Data((text + "\n").utf8))
        exit(status)
    case .run(let parsed):
        arguments = parsed
    }
} catch {
    fail(error)
}
guard let runner = runners[arguments.spec.name] else {
    preconditionFailure("reptune \(arguments.spec.name) is declared in ReptuneCommands but has no runner in main.swift")
}
do {
    try runner(arguments)
} catch let error as CLIError {
    fail(CommandLineFailure(command: arguments.spec, error: error))
} catch {
    fail(CommandLineFailure(command: arguments.spec, error: CLIError("\(error)", exitCode: 1)))
}
