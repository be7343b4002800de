import Foundation
import Testing
import Synchronization
import Pipeline
import TestSupport

@Suite("Planning, cache keys and scheduling")
struct SchedulerTests {
    @Test func secondRunDoesNoWork() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = CallLog()
        let first = try Arith.run(dir, registry: Arith.registry(log: log))
        #expect(!first.failed && !first.cancelled, "\(first)")
        #expect(first.outcome("sweep") == .computed(cells: 9))
        #expect(log.all.count == 1 + 1 + 9 + 1 + 1)

        let plan = try Arith.plan(dir)
        #expect(plan.stages.allSatisfy { $0.action == .cached }, "\(plan)")
        let second = try Arith.run(dir, registry: Arith.registry(log: log))
        #expect(log.all.count == 13, "the second run computed something")
        #expect(second.outcomes.allSatisfy { $0.outcome == .cached })

        // Hand-computed: nums 1…4, sum 10, 4 rows. acts layer L = nums·(L+1); vec[L] = mean = 2.5·(L+1).
        let store = try Store(directory: dir.appendingPathComponent("results"))
        let sweep = try StageResults.load(store, stageID: "sweep")
        let cell = try #require(sweep.cells.first { $0.coordinates["layer"]?.intValue == 2 && $0.coordinates["multiplier"]?.intValue == 3 })
        #expect(cell.metrics["value"] == 7.5 * 3 + 4)
        #expect(try StageResults.load(store, stageID: "ppl").cells[0].metrics["perplexity"] == 2.5)
        #expect(try StageResults.load(store, stageID: "rep").cells[0].metrics["cells_seen"] == 10)
        #expect(try store.db.query("SELECT count(*) FROM v_generations WHERE stage_id = 'sweep'").first?[0].int == 9)
    }

    @Test func changingOneParameterRecomputesExactlyTheAffectedStages() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = CallLog()
        try Arith.run(dir, registry: Arith.registry(log: log))
        let before = log.all.count

        try Data(Arith.manifest(multipliers: "[-2, 1, 4]").utf8).write(to: dir.appendingPathComponent("manifest.json"))
        let plan = try Arith.plan(dir)
        #expect(plan.stages.filter { $0.action == .run }.map(\.id) == ["sweep", "rep"], "\(plan)")
        let after = CallLog()
        let summary = try Arith.run(dir, registry: Arith.registry(log: after))
        #expect(after.stages == ["sweep", "rep"])
        #expect(after.count("sweep") == 9)
        #expect(summary.outcome("acts") == .cached && summary.outcome("vec") == .cached && summary.outcome("ppl") == .cached)
        #expect(before == 13)

        // Changing the data changes the dataset's sha256: every stage reading it, and everything downstream.
        try Data("1\n2\n3\n5\n".utf8).write(to: dir.appendingPathComponent("nums.txt"))
        let third = CallLog()
        try Arith.run(dir, registry: Arith.registry(log: third))
        #expect(third.stages == ["acts", "vec", "sweep", "ppl", "rep"])

        // A new engine version changes every key.
        let p = try Arith.plan(dir, engine: 2)
        #expect(p.stages.allSatisfy { $0.action == .run })
    }

    @Test func equivalentSpellingsShareACacheKey() throws {
        let a = try Arith.experiment(Arith.manifest(multipliers: "{\"range\": [-2, 3, 1]}"))
        let b = try Arith.experiment(Arith.manifest(multipliers: "[-2, -1, 0, 1.0, 2, 3e0]"))
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let pa = try Arith.plan(a), pb = try Arith.plan(b)
        #expect(pa.stage("sweep")?.key == pb.stage("sweep")?.key)
        #expect(pa.stage("rep")?.key == pb.stage("rep")?.key)
        let pc = try Arith.plan(try Arith.experiment(Arith.manifest(multipliers: "[-2, -1, 0, 1, 2, 3.5]")))
        #expect(pc.stage("sweep")?.key != pa.stage("sweep")?.key)
        #expect(pc.stage("vec")?.key == pa.stage("vec")?.key)
        // The key material says what was hashed.
        let material = try JSONParser.parse(try #require(pa.stage("sweep")).key.material)
        #expect(material["kind"]?.stringValue == "steering_sweep")
        #expect(material["inputs"]?["vector"]?.arrayValue?.first?.stringValue == pa.stage("vec")?.key.hex)
        #expect(material["model"]?["sha256"]?.stringValue?.count == 64)
        #expect(material["datasets"]?["nums"]?["sha256"]?.stringValue?.count == 64)
    }

    @Test func forceRecomputesAStageAndItsDependants() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Arith.run(dir, registry: Arith.registry(log: CallLog()))
        let before = try Arith.results(dir.appendingPathComponent("results"))
        let plan = try Arith.plan(dir, force: ["vec"])
        #expect(plan.stages.map(\.action) == [.cached, .forced, .forced, .cached, .forced], "\(plan)")
        let log = CallLog()
        try Arith.run(dir, registry: Arith.registry(log: log), force: ["vec"])
        #expect(log.stages == ["vec", "sweep", "rep"])
        #expect(log.all.count == 11)
        #expect(try Arith.results(dir.appendingPathComponent("results")) == before)
        #expect { try Arith.plan(dir, force: ["vex"]) } throws: {
            "\($0)" == "--force vex: no such stage in arith (stages: acts, vec, sweep, ppl, rep); did you mean \"vec\"?"
        }
    }

    @Test func onlyRunsTheStageAndWhatItNeeds() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = CallLog()
        let summary = try Arith.run(dir, registry: Arith.registry(log: log), only: ["vec"])
        #expect(log.stages == ["acts", "vec"])
        #expect(summary.outcome("sweep") == .skipped && summary.outcome("rep") == .skipped)
    }

    @Test func dryRunPlanShowsEachStageCachedOrToRunWithCellCounts() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Arith.run(dir, registry: Arith.registry(log: CallLog()), only: ["ppl"])
        let plan = try Arith.plan(dir)
        let lines = plan.description.split(separator: "\n").map(String.init)
        #expect(lines[0] == "plan for arith (5 stages):")
        #expect(lines[1].hasPrefix("  acts   collect_activations run         1 cell   key "))
        #expect(lines[3].hasPrefix("  sweep  steering_sweep      run         9 cells   key "))
        #expect(lines[4].hasPrefix("  ppl    perplexity          cached      1 cell   key \(plan.stage("ppl")!.key.short)"))
        #expect(lines[6] == "4 stages to run (12 cells), 1 cached")
    }

    @Test func aFailedStageStopsOnlyItsDependantsAndStoresItsError() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = CallLog()
        let summary = try Arith.run(dir, registry: Arith.registry(log: log, failOn: 1))
        #expect(summary.outcome("sweep") == .failed("cell #3 {\"layer\":1,\"multiplier\":-2}: layer 1 exploded"))
        #expect(summary.outcome("rep") == .blocked(by: "sweep"))
        #expect(summary.outcome("ppl") == .computed(cells: 1))
        #expect(summary.failed)
        let store = try Store(directory: dir.appendingPathComponent("results"))
        let row = try #require(try store.db.query("SELECT status, error, cells_done, cells_failed FROM v_stages WHERE stage_id = 'sweep'").first)
        #expect(row["status"].string == "failed")
        #expect(row["error"].string == "cell #3 {\"layer\":1,\"multiplier\":-2}: layer 1 exploded")
        #expect(row["cells_done"].int == 3 && row["cells_failed"].int == 1)
        #expect(try store.latestRun()?.status == "failed")

        // Fixed: the next run computes only what is missing (the failed cell and the ones never started).
        let retry = CallLog()
        let second = try Arith.run(dir, registry: Arith.registry(log: retry))
        #expect(retry.count("sweep") == 6)
        #expect(retry.stages == ["sweep", "rep"])
        #expect(second.outcome("rep") == .computed(cells: 1))
    }

    @Test func anInterruptedSweepResumesToIdenticalResults() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = dir.appendingPathComponent("reference")
        try Arith.run(dir, results: reference, registry: Arith.registry(log: CallLog()))

        let cancel = CancellationFlag()
        let log = CallLog()
        let interrupted = try Arith.run(dir, registry: Arith.registry(log: log, cancelAfter: 4, cancel: cancel), cancellation: cancel,
                                        options: SchedulerOptions(maxConcurrentStages: 1))
        #expect(interrupted.cancelled)
        #expect(interrupted.outcome("sweep") == .cancelled)
        #expect(interrupted.description.hasSuffix("interrupted; finish with: reptune resume \(dir.appendingPathComponent("results").path)"))
        let plan = try Arith.plan(dir)
        #expect(plan.stage("sweep")?.cellsDone == 4)
        #expect(plan.description.contains("resume      5 of 9 cells to run"))

        let rest = CallLog()
        try Arith.run(dir, registry: Arith.registry(log: rest))
        #expect(rest.count("sweep") == 5)
        #expect(try Arith.results(dir.appendingPathComponent("results")) == Arith.results(reference))
    }

    @Test func missingRunnersAreReportedBeforeAnythingRuns() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        var registry = StageRegistry()
        registry.register(.collectActivations, .perCell { _, _ in CellResult() })
        #expect { try Arith.run(dir, registry: registry) } throws: { "\($0)".hasPrefix("stage vec: no runner is registered for kind vectors") }
    }

    @Test func independentStagesRunConcurrentlyWithinTheMemoryBudget() throws {
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let active = Mutex((now: 0, peak: 0))
        func slow(_ kind: StageKind) -> StageRunner {
            StageRunner(memoryEstimate: { _ in 100 }) { context in
                active.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                Thread.sleep(forTimeInterval: 0.2)
                active.withLock { $0.now -= 1 }
                while let cell = try context.nextCells(1).first { try context.commit(cell, CellResult()) }
            }
        }
        var registry = Arith.registry(log: CallLog())
        registry.register(.perplexity, slow(.perplexity))
        registry.register(.collectActivations, slow(.collectActivations))
        try Arith.run(dir, results: dir.appendingPathComponent("a"), registry: registry, only: ["acts", "ppl"],
                      options: SchedulerOptions(memoryBudget: 200, maxConcurrentStages: 4))
        #expect(active.withLock { $0.peak } == 2)
        active.withLock { $0.peak = 0 }
        try Arith.run(dir, results: dir.appendingPathComponent("b"), registry: registry, only: ["acts", "ppl"],
                      options: SchedulerOptions(memoryBudget: 150, maxConcurrentStages: 4))
        #expect(active.withLock { $0.peak } == 1)
    }

    @Test func twoConcurrentRunsShareTheWorkAndLeaveAConsistentDatabase() throws {
        let dir = try Arith.experiment(Arith.manifest(multipliers: "{\"range\": [-5, 5, 1]}"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = CallLog()
        let errors = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            do {
                let summary = try Arith.run(dir, registry: Arith.registry(log: log, delay: 0.005))
                if summary.failed || summary.cancelled { errors.withLock { $0.append("\(summary)") } }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        #expect(errors.withLock { $0 } == [])
        // Every sweep cell computed exactly once between the two runs.
        #expect(log.count("sweep") == 33)
        #expect(Set(log.all).count == log.all.count)
        let store = try Store(directory: dir.appendingPathComponent("results"))
        #expect(try store.db.query("PRAGMA integrity_check").first?[0].string == "ok")
        #expect(try store.db.query("SELECT count(*) FROM cells WHERE status != 'done'").first?[0].int == 0)
        #expect(try store.runs().count == 2)
    }
}
