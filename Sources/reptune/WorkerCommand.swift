import CommandLineSpec
import Engine
import Foundation
import Pipeline

/// `reptune worker DIR UNIT`: compute one unit of work and write its result bundle (the processes and slurm
/// executors start it); `--probe TOKEN` only checks that the results directory is visible here. Progress goes to
/// standard output as plain lines (the job's log: `logs/slurm-<job>.log`, or `logs/<unit>.log` for `processes`).
enum WorkerCommand {
    static func run(_ a: ParsedArguments) throws {
        let directory = URL(fileURLWithPath: a.positional[0])
        if let token = a.string("probe") {
            return try UnitWorker.answerProbe(token, in: directory)
        }
        guard a.positional.count > 1 else { throw CLIError("give the UNIT to compute (STAGE_KEY[:CELLS]) or --probe TOKEN", exitCode: 2) }
        var unit = a.positional[1]
        if a.flag("array") {
            let units = unit.split(separator: ";").map(String.init)
            guard let task = ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"].flatMap(Int.init), units.indices.contains(task) else {
                throw CLIError("--array: SLURM_ARRAY_TASK_ID is \(ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"] ?? "unset"), expected 0…\(units.count - 1)", exitCode: 2)
            }
            unit = units[task]
        }
        let cancellation = CancellationFlag()
        let handler = cancellation.installInterruptHandler(message: "worker stopping: saving the progress of the cell in flight")
        // scancel, a time limit and the processes executor stop a worker with SIGTERM: the same as Ctrl-C.
        signal(SIGTERM, SIG_IGN)
        let term = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        term.setEventHandler { cancellation.cancel() }
        term.resume()
        defer { handler.cancel(); term.cancel() }
        let bundle: ResultBundle
        do {
            bundle = try UnitWorker.run(unit, in: directory, manifestOptions: try RunCommand.manifestOptions(datasets: a.string("datasets")),
                                        engineVersion: EngineVersion.current, cancellation: cancellation,
                                        observer: ProgressDisplay(live: false).observer)
        } catch is StageCancelled {
            throw CLIError("unit \(unit) stopped by a signal; its saved progress is kept for the retry", exitCode: 143)
        }
        print("unit \(bundle.unit): \(bundle.results.count) cell(s) computed, \(bundle.failures.count) failed; bundle \(bundle.unit.bundleURL(in: directory).path)")
        if let first = bundle.failures.first {
            throw CLIError("cell #\(first.cell) failed: \(first.error)", exitCode: 1)
        }
    }
}
