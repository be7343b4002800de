import Foundation

/// Slurm options for the units of a run: from `--slurm-*` on the command line, else the manifest's
/// `"executor": {"slurm": {…}}`. Empty fields are left to the cluster's defaults.
public struct SlurmOptions: Sendable, Hashable {
    public var partition: String?
    public var time: String?
    public var mem: String?
    public var cpusPerTask: Int?
    public var account: String?
    /// More `sbatch` arguments, passed as they are (`--qos=debug`, `--constraint=avx2`).
    public var extra: [String]
    /// The most units one stage's pending cells are split into (one array task each).
    public var unitsPerStage: Int

    public init(partition: String? = nil, time: String? = nil, mem: String? = nil, cpusPerTask: Int? = nil, account: String? = nil,
                extra: [String] = [], unitsPerStage: Int = 8) {
        self.partition = partition
        self.time = time
        self.mem = mem
        self.cpusPerTask = cpusPerTask
        self.account = account
        self.extra = extra
        self.unitsPerStage = max(1, unitsPerStage)
    }

    /// The command line's options over the manifest's.
    public func overriding(with other: SlurmOptions) -> SlurmOptions {
        SlurmOptions(partition: other.partition ?? partition, time: other.time ?? time, mem: other.mem ?? mem,
                     cpusPerTask: other.cpusPerTask ?? cpusPerTask, account: other.account ?? account,
                     extra: extra + other.extra, unitsPerStage: other.unitsPerStage)
    }

    var sbatchArguments: [String] {
        [partition.map { "--partition=\($0)" }, time.map { "--time=\($0)" }, mem.map { "--mem=\($0)" },
         cpusPerTask.map { "--cpus-per-task=\($0)" }, account.map { "--account=\($0)" }].compactMap { $0 } + extra
    }
}

/// The Slurm commands the slurm executor runs: `sbatch` to submit, `squeue` and `scontrol` (then the job-completion
/// log) to follow a job. Accounting (`sacct`) is not needed.
enum SlurmQueue {
    /// A Slurm command's problem: not on PATH, or refused.
    static func command(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw WorkUnitError("--executor slurm needs `\(name)` on PATH (searched \(path)): install Slurm's client commands (Debian: slurm-client) or run on a login node of the cluster")
    }

    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try command(name))
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `sh` single quotes around `s`.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func wrap(_ worker: WorkerInvocation, _ arguments: [String]) -> String {
        "exec " + worker.command(arguments).map(quote).joined(separator: " ")
    }

    /// Checks the partition and that a job sees the results directory: writes `probe/<token>`, submits `reptune
    /// worker DIR --probe TOKEN` with the run's options and waits for it (`sbatch --wait`).
    static func probe(_ directory: URL, worker: WorkerInvocation, options: SlurmOptions, log: (String) -> Void) throws {
        _ = try command("sbatch")
        if let partition = options.partition {
            let known = try run("sinfo", ["-h", "-o", "%R"])
            let names = known.out.split(separator: "\n").map(String.init)
            if known.status == 0, !names.contains(partition) {
                throw WorkUnitError("Slurm partition \(partition) does not exist (this cluster has: \(names.joined(separator: ", ")))")
            }
        }
        let token = UUID().uuidString
        let probe = directory.appendingPathComponent("probe/\(token)")
        try FileManager.default.createDirectory(at: probe.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("written by the coordinator on \(ProcessInfo.processInfo.hostName)\n".utf8).write(to: probe)
        defer {
            try? FileManager.default.removeItem(at: probe)
            try? FileManager.default.removeItem(at: probe.appendingPathExtension("seen"))
        }
        let logFile = directory.appendingPathComponent("logs/probe-\(token).log")
        try FileManager.default.createDirectory(at: logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        log("probing that Slurm jobs see \(directory.path)")
        var arguments = ["--parsable", "--wait", "--job-name=reptune-probe", "--output=\(logFile.path)"] + options.sbatchArguments
        arguments.append("--wrap=" + wrap(worker, ["worker", directory.path, "--probe", token]))
        let result = try run("sbatch", arguments)
        let seen = FileManager.default.fileExists(atPath: probe.appendingPathExtension("seen").path)
        if !seen {
            let output = (try? String(contentsOf: logFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if result.out.isEmpty {
                throw WorkUnitError("sbatch refused the probe job: \(result.err.isEmpty ? "exit status \(result.status)" : result.err)")
            }
            throw WorkUnitError("the probe job \(result.out) did not see \(probe.path): the results directory must be on storage the compute nodes share (its output: \(output.isEmpty ? "none" : output))")
        }
    }

    /// Submits units of one stage: one job, or a job array of one task per unit. Returns the job ids (`<job>` or
    /// `<array job>_<task>`).
    static func submit(_ units: [WorkUnit], stageID: String, worker: WorkerInvocation, options: SlurmOptions,
                       in directory: URL) throws -> [String] {
        guard !units.isEmpty else { return [] }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        let array = units.count > 1
        var arguments = ["--parsable", "--job-name=reptune-\(stageID)"]
        if array {
            arguments += ["--array=0-\(units.count - 1)", "--output=\(directory.path)/logs/slurm-%A_%a.log"]
        } else {
            arguments += ["--output=\(directory.path)/logs/slurm-%j.log"]
        }
        arguments += options.sbatchArguments
        arguments.append("--wrap=" + wrap(worker, worker.arguments(directory, unit: units.map(\.description).joined(separator: ";"), array: array)))
        let result = try run("sbatch", arguments)
        guard result.status == 0, let id = result.out.split(separator: ";").first.map(String.init), Int(id) != nil else {
            throw WorkUnitError("sbatch refused the jobs of stage \(stageID): \(result.err.isEmpty ? "exit status \(result.status), output \(result.out)" : result.err)")
        }
        return array ? units.indices.map { "\(id)_\($0)" } : [id]
    }

    /// A job's state: `squeue` while the controller lists it, then `scontrol show job`, then the job-completion log.
    static func state(of job: String) -> WorkerJobState {
        if let q = try? run("squeue", ["-h", "-j", job, "-o", "%T|%r"]), q.status == 0, !q.out.isEmpty {
            let parts = q.out.split(separator: "\n")[0].split(separator: "|", maxSplits: 1).map(String.init)
            let reason = parts.count > 1 && parts[1] != "None" ? parts[1] : nil
            return .active(state: parts[0], reason: reason)
        }
        if let s = try? run("scontrol", ["show", "job", "-o", job]), s.status == 0, let fields = fields(s.out),
           let state = fields["JobState"] {
            if ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"].contains(state) {
                return .active(state: state, reason: fields["Reason"].flatMap { $0 == "None" ? nil : $0 })
            }
            return .ended(state: state, reason: endReason(fields))
        }
        if let line = jobCompletionLine(job), let fields = fields(line), let state = fields["JobState"] {
            return .ended(state: state, reason: endReason(fields))
        }
        return .ended(state: "GONE", reason: "no longer known to slurmctld")
    }

    static func endReason(_ fields: [String: String]) -> String? {
        var parts: [String] = []
        if let exit = fields["ExitCode"], exit != "0:0" { parts.append("exit code \(exit)") }
        if let reason = fields["Reason"], reason != "None" { parts.append(reason) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// `Key=Value` fields of one line of `scontrol -o` or the job-completion log.
    static func fields(_ line: String) -> [String: String]? {
        var out: [String: String] = [:]
        for part in line.split(separator: " ") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            out[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return out.isEmpty ? nil : out
    }

    /// The job's line in the job-completion log (`JobCompLoc` of a `jobcomp/filetxt` cluster), if any.
    static func jobCompletionLine(_ job: String) -> String? {
        guard let config = try? run("scontrol", ["show", "config"]), config.status == 0,
              let line = config.out.split(separator: "\n").first(where: { $0.hasPrefix("JobCompLoc") }),
              let path = line.split(separator: "=", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces),
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let id = job.split(separator: "_").first.map(String.init) ?? job
        return text.split(separator: "\n").last { $0.hasPrefix("JobId=\(id) ") }.map(String.init)
    }
}
