import Foundation
import Testing
import Synchronization
import Pipeline
import TestSupport

@Suite("status, query, results, gc, resume, progress")
struct CommandsTests {
    @Test func statusShowsStagesCellsAndFailures() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Arith.run(dir, registry: Arith.registry(log: CallLog(), failOn: 2))
        let status = try RunStatus.load(Store(directory: dir.appendingPathComponent("results")))
        #expect(status.run.status == "failed")
        #expect(status.rows.map(\.stageID) == ["acts", "vec", "sweep", "ppl", "rep"])
        let sweep = try #require(status.rows.first { $0.stageID == "sweep" })
        #expect(sweep.counts == CellCounts(pending: 2, done: 6, failed: 1))
        #expect(sweep.eta != nil)
        let text = status.description
        #expect(text.contains("sweep  steering_sweep       failed   6/9    1"), "\(text)")
        #expect(text.contains("rep    report               pending  0/1"), "\(text)")
        #expect(text.contains("sweep failed: cell #6 {\"layer\":2,\"multiplier\":-2}: layer 2 exploded"), "\(text)")
    }

    @Test func queryIsReadOnlyAndRendersFormats() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = dir.appendingPathComponent("results")
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        let sql = "SELECT json_extract(coordinates, '$.multiplier') AS m, value FROM v_metrics WHERE stage_id = 'sweep' AND name = 'value' AND json_extract(coordinates, '$.layer') = 1 ORDER BY m"
        // vec[1] = 5 (mean of 2, 4, 6, 8); value = 5·m + 4.
        #expect(try ResultsQuery.run(sql, in: results, format: .csv) == "m,value\n-2,-6.0\n1,9.0\n3,19.0\n")
        #expect(try ResultsQuery.run(sql, in: results, format: .json) == "[\n  {\"m\":-2,\"value\":-6},\n  {\"m\":1,\"value\":9},\n  {\"m\":3,\"value\":19}\n]\n")
        #expect(try ResultsQuery.run(sql, in: results, format: .md) == "| m | value |\n|---|---|\n| -2 | -6.0 |\n| 1 | 9.0 |\n| 3 | 19.0 |\n")
        #expect(try ResultsQuery.run(sql, in: results, format: .table) == "m   value\n--  -----\n-2  -6.0\n1   9.0\n3   19.0\n")
        #expect { try ResultsQuery.run("DELETE FROM cells", in: results) } throws: { "\($0)" == "reptune query only reads: DELETE FROM cells" }
        #expect { try ResultsQuery.run("SELECT 1; DELETE FROM cells", in: results) } throws: {
            ($0 as? SQLiteError)?.message == "only one statement is allowed here; found more after the first"
        }
        #expect(try Store(directory: results).db.query("SELECT count(*) FROM cells").first?[0].int == 13)
        #expect { try ResultsQuery.run("SELECT 1", in: dir.appendingPathComponent("nowhere")) } throws: { "\($0)".hasPrefix("no results database at") }
    }

    @Test func resultsRenderAsCSVAndMarkdown() throws {
        let dir = try Arith.experiment(Arith.manifest(multipliers: "[1, 2]", layers: "[0]"))
        defer { try? FileManager.default.removeItem(at: dir) }
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        let results = try StageResults.load(Store(directory: dir.appendingPathComponent("results")), stageID: "sweep")
        // vec[0] = 2.5; value = 2.5·m + 4.
        #expect(results.render(.csv) == """
            cell,layer,multiplier,status,layer_x_m,value,outputs,artifacts,error
            0,0,1,done,0,6.5,"{""text"":""v=6.5""}",,
            1,0,2,done,0,9,"{""text"":""v=9.0""}",,

            """)
        #expect(results.render(.md).hasPrefix("| cell | layer | multiplier | status | layer_x_m | value | outputs | artifacts | error |\n|---|---|---|---|---|---|---|---|---|\n| 0 | 0 | 1 | done | 0 | 6.5 |"))
        #expect { try StageResults.load(Store(directory: dir.appendingPathComponent("results")), stageID: "swep") } throws: {
            "\($0)".hasSuffix("did you mean \"sweep\"?")
        }
    }

    @Test func gcDropsSupersededResultsAndOrphanFiles() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let resultsDir = dir.appendingPathComponent("results")
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        // A new dataset supersedes acts, vec (their artifacts change), sweep, ppl and rep.
        try Data("5\n6\n".utf8).write(to: dir.appendingPathComponent("nums.txt"))
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        let store = try Store(directory: resultsDir)
        let orphan = store.artifactsDirectory.appendingPathComponent("ff/ffff")
        try FileManager.default.createDirectory(at: orphan.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("crash leftover".utf8).write(to: orphan)
        // Saved progress of a stage the store does not have (a superseded key) goes; a kept stage's stays.
        let kept = try #require(try store.db.query("SELECT key FROM stages WHERE key IN (SELECT stage_key FROM run_stages WHERE run_id = (SELECT max(id) FROM runs))").first?[0].string)
        let stale = store.scratchDirectory(.perplexity).appendingPathComponent(String(repeating: "ab", count: 32))
        let live = store.scratchDirectory(.perplexity).appendingPathComponent(kept)
        for folder in [stale, live] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: folder.appendingPathComponent("cell-0.json"))
        }
        let before = try Arith.results(resultsDir)

        let report = try GarbageCollector.collect(store)
        #expect(report.progressFoldersRemoved == 1 && !FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: live.appendingPathComponent("cell-0.json").path))
        #expect(report.runsRemoved == 1)
        #expect(report.stagesRemoved == 5)
        #expect(report.filesRemoved == 3)   // old activations, old vector, the orphan
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        #expect(try Arith.results(resultsDir) == before)
        #expect(try store.db.query("SELECT count(*) FROM artifacts").first?[0].int == 2)
        #expect(try store.db.query("PRAGMA foreign_key_check").isEmpty)
        // Nothing left to collect; the latest run is still fully cached.
        #expect(try GarbageCollector.collect(store) == GarbageCollector.Report())
        #expect(try Arith.plan(dir).stages.allSatisfy { $0.action == .cached })
    }

    /// An Arith experiment whose run was cancelled after 2 sweep cells: its folder and results directory.
    static func interruptedArithRun() throws -> (dir: URL, results: URL) {
        let dir = try Arith.experiment()
        let cancel = CancellationFlag()
        try Arith.run(dir, registry: Arith.registry(log: CallLog(), cancelAfter: 2, cancel: cancel), cancellation: cancel,
                      options: SchedulerOptions(maxConcurrentStages: 1))
        return (dir, dir.appendingPathComponent("results"))
    }

    @Test func resumeReplansTheStoredManifest() throws {
        let (dir, resultsDir) = try Self.interruptedArithRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Editing the manifest file afterwards does not change what is resumed.
        try Data("{}".utf8).write(to: dir.appendingPathComponent("manifest.json"))
        let store = try Store(directory: resultsDir)
        let (resuming, resumed) = try ExperimentRun.resuming(resultsDir, engineVersion: 1)
        let (manifest, options) = (resuming.manifest, resuming.options)
        #expect(manifest.name == "arith" && options.force.isEmpty && resumed.status == "interrupted")
        let plan = try Planner.plan(manifest, options: options, store: store)
        #expect(plan.stage("sweep")?.cellsDone == 2)
        let log = CallLog()
        let summary = try Scheduler(registry: Arith.registry(log: log)).run(plan, in: resultsDir)
        #expect(!summary.cancelled && !summary.failed)
        #expect(log.count("sweep") == 7)
    }

    /// A finished run recorded after an interrupted one (another manifest sharing the results directory) does not
    /// hide it: resume picks the latest run that did not finish; `run:` picks any.
    @Test func resumePicksTheLatestUnfinishedRun() throws {
        let (dir, resultsDir) = try Self.interruptedArithRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(directory: resultsDir)
        let interrupted = try #require(try store.latestRun())
        #expect(interrupted.status == "interrupted")
        // A second manifest, run to the end in the same directory.
        let other = Arith.manifest().replacingOccurrences(of: #""name": "arith""#, with: #""name": "other""#)
        #expect(other != Arith.manifest())
        let otherFile = dir.appendingPathComponent("other.json")
        try Data(other.utf8).write(to: otherFile)
        let otherRun = ExperimentRun(manifest: try Manifest.load(from: otherFile, options: ManifestOptions(checkFiles: false)),
                                     resultsDirectory: resultsDir, options: PlanOptions(engineVersion: 1))
        let finished = try Scheduler(registry: Arith.registry(log: CallLog())).run(try otherRun.plan(), in: resultsDir)
        #expect(!finished.cancelled && !finished.failed)
        #expect(try store.latestRun()?.status == "done")

        let (resuming, resumed) = try ExperimentRun.resuming(resultsDir, engineVersion: 1)
        #expect(resumed.id == interrupted.id && resuming.manifest.name == "arith")
        let (chosen, record) = try ExperimentRun.resuming(resultsDir, run: interrupted.id + 1, engineVersion: 1)
        #expect(record.status == "done" && chosen.manifest.name == "other")
        #expect(throws: PlanError.self) { try ExperimentRun.resuming(resultsDir, run: 99, engineVersion: 1) }
    }

    @Test func progressPrintsPlainLinesWithRateAndETA() {
        let clock = Mutex(100.0)
        let lines = Mutex("")
        let display = ProgressDisplay(live: false, logInterval: 2, clock: { clock.withLock { $0 } }, write: { text in lines.withLock { $0 += text } })
        display.handle(.stageStarted(stageID: "sweep", kind: .steeringSweep, cellsTotal: 10, cellsDone: 2))
        for _ in 0..<4 {
            clock.withLock { $0 += 1 }
            display.handle(.cellFinished(stageID: "sweep", cell: 0))
        }
        display.handle(.stageFinished(stageID: "sweep", outcome: .computed(cells: 4)))
        // After 2 s: 2 new cells → 1 cell/s, 6 left → ETA 6s; after 4 s: 2 left → 2s.
        #expect(lines.withLock { $0 } == """
            [sweep] steering_sweep started: 2/10 cells done
            [sweep] 4/10 cells, 1.0/s, ETA 6s
            [sweep] 6/10 cells, 1.0/s, ETA 4s
            [sweep] done (4 cells computed)

            """)
    }

    @Test func progressInsideACellCountsOnlyWorkDoneSinceItsFirstReport() {
        let clock = Mutex(0.0)
        let lines = Mutex("")
        let display = ProgressDisplay(live: false, logInterval: 1, clock: { clock.withLock { $0 } }, write: { text in lines.withLock { $0 += text } })
        // A tune resumed from a checkpoint at step 154 of 366, then 2 steps per second.
        display.handle(.progress(stageID: "tune", label: "steps", done: 154, total: 366, status: nil))
        clock.withLock { $0 = 3 }
        display.handle(.progress(stageID: "tune", label: "steps", done: 160, total: 366, status: "epoch 2/3"))
        #expect(lines.withLock { $0 } == """
            [tune] 154/366 steps
            [tune] epoch 2/3: 160/366 steps, 2.0/s, ETA 1m43s

            """)
    }

    @Test func progressRedrawsLiveLinesOnATerminal() {
        let lines = Mutex("")
        let display = ProgressDisplay(live: true, clock: { 0 }, write: { text in lines.withLock { $0 += text } })
        display.handle(.stageStarted(stageID: "a", kind: .tune, cellsTotal: 4, cellsDone: 0))
        display.handle(.stageStarted(stageID: "b", kind: .evaluate, cellsTotal: 2, cellsDone: 1))
        let text = lines.withLock { $0 }
        // The second event erases the one line drawn by the first, then draws both stages.
        #expect(text.hasSuffix("\u{1B}[1A\u{1B}[2K\ra [························] 0/4 cells\nb [████████████············] 1/2 cells\n"))
    }

    @Test func meterFormatsDurations() {
        #expect(ProgressMeter.duration(59.4) == "59s")
        #expect(ProgressMeter.duration(125) == "2m05s")
        #expect(ProgressMeter.duration(7300) == "2h01m")
    }
}
