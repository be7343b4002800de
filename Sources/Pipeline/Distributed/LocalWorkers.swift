import Foundation

/// The processes executor's workers: `reptune worker` started as a child process, its output in
/// `logs/<stage key>-<cells>.log`, named `pid:<process token>` (`ProcessIdentity`), so that a coordinator started
/// again can tell whether a worker of an earlier coordinator still runs.
enum LocalWorkers {
    static func start(_ unit: WorkUnit, worker: WorkerInvocation, in directory: URL) throws -> String {
        let log = Self.log(unit, in: directory)
        try FileManager.default.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        let command = worker.command(worker.arguments(directory, unit: unit.description))
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw WorkUnitError("cannot start the worker \(command[0]): \(error)")
        }
        try? handle.close()
        let pid = process.processIdentifier
        return "pid:" + (ProcessIdentity.token(of: pid) ?? "\(ProcessIdentity.bootID):\(pid):0")
    }

    static func state(of job: String) -> WorkerJobState {
        let token = String(job.dropFirst("pid:".count))
        let parts = token.split(separator: ":")
        guard parts.count == 3, let pid = Int32(parts[1]) else { return .ended(state: "UNKNOWN", reason: "not a process job: \(job)") }
        return ProcessIdentity.token(of: pid) == token ? .active(state: "RUNNING", reason: nil) : .ended(state: "EXITED", reason: nil)
    }

    static func log(_ unit: WorkUnit, in directory: URL) -> URL {
        directory.appendingPathComponent("logs/\(unit.stageKey)-\(unit.cellList).log")
    }
}
