import Foundation

/// What handing units to workers costs, apart from the units' own work (`reptune bench --executors`): the
/// coordinator's ingest rate (bundles of one cell with `metricCount` metrics and `generationCount` generations,
/// read, checked and stored, one transaction each), and per executor the time to start a worker that answers a probe
/// (`reptune worker DIR --probe`: process start and seeing the results directory, no model loaded) — for Slurm also
/// the `sbatch` call itself (submit) and the time from submission to the probe's answer (start).
public struct ExecutorBenchmark {
    /// One measured figure: name, value, unit.
    public struct Figure: Sendable {
        public var name: String
        public var value: Double
        public var unit: String
    }

    public var worker: WorkerInvocation
    public var bundles = 400
    public var metricCount = 8
    public var generationCount = 50
    public var starts = 5

    public init(worker: WorkerInvocation) { self.worker = worker }

    public func run(slurm: SlurmOptions?, report: (Figure) -> Void) throws -> [Figure] {
        var figures: [Figure] = []
        func add(_ name: String, _ value: Double, _ unit: String) {
            let f = Figure(name: name, value: value, unit: unit)
            figures.append(f)
            report(f)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reptune-bench-executors-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ingest = try ingestRate(directory)
        add("ingest", ingest, "bundles/s")
        add("ingest per bundle", 1000 / ingest, "ms")
        let local = try localStarts(directory)
        add("processes: worker start", local * 1000, "ms")
        if let slurm {
            let (submit, start) = try slurmStarts(directory, options: slurm)
            add("slurm: submit (sbatch)", submit * 1000, "ms")
            add("slurm: submit to worker answer", start * 1000, "ms")
        }
        return figures
    }

    func ingestRate(_ directory: URL) throws -> Double {
        let store = try Store(directory: directory)
        let key = String(repeating: "be", count: 32)
        let cells = (0..<bundles).map { SweepCell(index: $0, coordinates: [JSONMember(key: "multiplier", value: .int($0))]) }
        try store.ensureStage(key: key, stageID: "bench", kind: .evaluate, paramsJSON: "{}", keyJSON: "{}", cells: cells)
        for cell in cells {
            let result = CellResult(metrics: Dictionary(uniqueKeysWithValues: (0..<metricCount).map { ("m\($0)", Double($0) / 7) }),
                                    generations: (0..<generationCount).map {
                                        Generation(item: $0, prompt: "Is the statement true? \($0)", output: "Answer: (A) true, because …", score: 1)
                                    })
            try ResultBundle(unit: WorkUnit(stageKey: key, cells: [cell.index]), results: [(cell, result)], failures: [],
                             worker: WorkerStamp(host: "bench", pid: 0, slurmJob: nil, startedAt: 0, finishedAt: 0)).write(in: directory)
        }
        let start = Date()
        for cell in cells {
            let unit = WorkUnit(stageKey: key, cells: [cell.index])
            _ = try store.ingest(ResultBundle.read(unit.bundleURL(in: directory), expected: unit))
        }
        return Double(bundles) / Date().timeIntervalSince(start)
    }

    func localStarts(_ directory: URL) throws -> Double {
        var total = 0.0
        for _ in 0..<starts {
            let token = UUID().uuidString
            let probe = directory.appendingPathComponent("probe/\(token)")
            try FileManager.default.createDirectory(at: probe.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: probe)
            let start = Date()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: worker.executable)
            p.arguments = ["worker", directory.path, "--probe", token]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw WorkUnitError("the probe worker exited with status \(p.terminationStatus)") }
            total += Date().timeIntervalSince(start)
        }
        return total / Double(starts)
    }

    func slurmStarts(_ directory: URL, options: SlurmOptions) throws -> (submit: Double, start: Double) {
        var submit = 0.0, start = 0.0
        for _ in 0..<starts {
            let token = UUID().uuidString
            let probe = directory.appendingPathComponent("probe/\(token)")
            try Data().write(to: probe)
            let t0 = Date()
            let result = try SlurmQueue.run("sbatch", ["--parsable", "--job-name=reptune-bench", "--output=/dev/null"] + options.sbatchArguments
                                            + ["--wrap=" + SlurmQueue.wrap(worker, ["worker", directory.path, "--probe", token])])
            guard result.status == 0 else { throw WorkUnitError("sbatch refused the probe job: \(result.err)") }
            submit += Date().timeIntervalSince(t0)
            let seen = probe.appendingPathExtension("seen")
            while !FileManager.default.fileExists(atPath: seen.path) {
                guard Date().timeIntervalSince(t0) < 300 else { throw WorkUnitError("probe job \(result.out) did not answer within 300 s") }
                Thread.sleep(forTimeInterval: 0.02)
            }
            start += Date().timeIntervalSince(t0)
        }
        return (submit / Double(starts), start / Double(starts))
    }
}
