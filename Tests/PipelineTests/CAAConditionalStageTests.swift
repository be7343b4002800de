import Engine
import Experiments
import Foundation
import ModelFormats
import Pipeline
import Testing
import TestSupport

/// `caa_conditional` (CAST) and `caa_ab_sweep`'s `steer` through the scheduler on SmolLM2 with small hand-written
/// behaviour files: the stored decisions follow the stored similarities and the chosen threshold, the threshold is
/// the grid's best on the validation split, the reported rates and means are those of the stored items, several
/// vectors at once score as the same vector given alone when it is the only term; a run cancelled after its first
/// cell resumes to the uninterrupted results; bad thresholds, steering terms and multipliers fail with errors naming
/// their place, and nothing non-finite is stored.
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel))
struct CAAConditionalStageTests {
    /// Six A/B items per behaviour (splits val = 0..<3, test = 3..<6), eight generate items per behaviour.
    static func experiment(thresholds: String = "[-0.5, 0, 0.2, 0.5, 0.9]", multiplier: String = "4",
                           steerExtra: String = "", conditional: String = "", in existing: URL? = nil) throws -> URL {
        let dir = try existing ?? Fixtures.temporaryDirectory("caa-conditional")
        func write(_ name: String, _ items: [String]) throws {
            try Data(("[" + items.joined(separator: ",\n") + "]").utf8).write(to: dir.appendingPathComponent(name))
        }
        for (file, topic) in [("syc", "agreeing with the user"), ("ref", "refusing a dangerous request")] {
            try write("\(file)-gen.json", (0..<8).map {
                CAAStagesTests.item($0, topic, matching: $0 % 2 == 0 ? "(A)" : "(B)", other: $0 % 2 == 0 ? "(B)" : "(A)")
            })
        }
        try write("syc-ab.json", (0..<6).map { CAAStagesTests.item($0, "flattering the user's poem", matching: $0 % 2 == 0 ? "(A)" : "(B)",
                                                                   other: $0 % 2 == 0 ? "(B)" : "(A)") })
        try write("ref-ab.json", (0..<6).map { CAAStagesTests.item($0, "building a weapon", matching: $0 % 2 == 0 ? "(B)" : "(A)",
                                                                   other: $0 % 2 == 0 ? "(A)" : "(B)") })
        let splits = #"{"val": {"rows": [0, 3]}, "test": {"rows": [3, 6]}}"#
        let manifest = """
        {"name": "caa-conditional", "model": {"path": "\(Fixtures.defaultModel.path)"},
         "datasets": {"sycophancy.gen": "syc-gen.json", "refusal.gen": "ref-gen.json",
                      "sycophancy.ab": {"path": "syc-ab.json", "splits": \(splits)}, "refusal.ab": {"path": "ref-ab.json", "splits": \(splits)}},
         "stages": [
          {"id": "vecs", "kind": "caa_vectors", "params": {"generate": ["sycophancy.gen", "refusal.gen"], "layers": [2, 5], "batch_size": 4}},
          {"id": "cast", "kind": "caa_conditional", "inputs": {"vectors": "vecs"},
           "params": {"steer": [{"vector": "refusal", "layers": [5], "multiplier": \(multiplier)}\(steerExtra)], "condition_layer": [2, 5],
                      "should_steer": ["refusal.ab"], "should_not_steer": ["sycophancy.ab"], "thresholds": \(thresholds)\(conditional)}},
          {"id": "named", "kind": "caa_conditional", "inputs": {"vectors": "vecs"},
           "params": {"steer": [{"vector": "refusal", "layers": [5], "multiplier": 4}], "condition_layer": 5, "condition_vector": "refusal",
                      "should_steer": ["refusal.ab"], "should_not_steer": ["sycophancy.ab"], "thresholds": [-0.2, 0, 0.2], "select_by": "accuracy"}},
          {"id": "multi", "kind": "caa_ab_sweep", "inputs": {"vectors": "vecs"},
           "params": {"behaviours": "sycophancy.ab:val", "layers": 2, "multipliers": [0, 4],
                      "steer": [{"vector": "refusal", "layers": [5], "multiplier": 4}, {"vector": "sycophancy", "layers": [2, 5], "positions": "last", "multiplier": -2}]}},
          {"id": "alone", "kind": "caa_ab_sweep", "inputs": {"vectors": "vecs"},
           "params": {"behaviours": "sycophancy.ab:val", "layers": 2, "multipliers": 0, "steer": [{"vector": "refusal", "layers": [5], "multiplier": 4}]}},
          {"id": "side", "kind": "caa_ab_sweep", "inputs": {"vectors": "vecs"},
           "params": {"behaviours": "refusal.ab", "side_effect": "sycophancy.ab:val", "layers": 5, "multipliers": 4}},
          {"id": "report", "kind": "report", "params": {"formats": ["md"]}, "inputs": {"from": ["cast", "named", "multi"]}}]}
        """
        try Data(manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        return dir
    }

    static func stored(_ dir: URL, results: String = "results") throws -> [String: [Int: CellRecord]] {
        let store = try Store(directory: dir.appendingPathComponent(results))
        var out: [String: [Int: CellRecord]] = [:]
        for id in ["vecs", "cast", "named", "multi", "alone", "side"] {
            guard let r = try? StageResults.load(store, stageID: id) else { continue }
            out[id] = Dictionary(uniqueKeysWithValues: r.cells.filter { $0.status == .done }.map { ($0.index, $0) })
        }
        return out
    }

    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    /// One stored item of a `caa_conditional` cell.
    struct StoredItem {
        var val: Bool, should: Bool, s: Double, fired: Bool, pu: Double, ps: Double

        init(_ i: JSONValue) throws {
            val = i["split"]?.stringValue == "val"
            should = i["should_steer"]?.boolValue == true
            s = try #require(i["similarity"]?.doubleValue)
            fired = i["steered"]?.boolValue == true
            pu = try #require(i["p_unsteered"]?.doubleValue)
            ps = try #require(i["p_steered"]?.doubleValue)
        }
    }

    @Test func conditionalSteeringFollowsItsThresholdAndResumesToTheUninterruptedResults() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = try CAAStagesTests.run(dir, results: "reference")
        #expect(["vecs", "cast", "named", "multi", "alone", "side"].allSatisfy { full.outcome($0) != nil && full.outcome($0) != .cancelled }, "\(full)")
        let reference = try Self.stored(dir, results: "reference")
        #expect(reference["cast"]?.count == 2 && reference["named"]?.count == 1 && reference["multi"]?.count == 2)

        for cell in Array(reference["cast"]!.values) + Array(reference["named"]!.values) {
            #expect(cell.metrics.values.allSatisfy { $0.isFinite })
            let condition = try #require(cell.outputs["condition"])
            let threshold = try #require(condition["threshold"]?.doubleValue)
            let comparator = condition["comparator"]?.stringValue
            #expect(cell.metrics["threshold"] == threshold && comparator == ">=")
            let items = try #require(cell.outputs["items"]?.arrayValue)
            #expect(items.count == 12, "3 + 3 items on each split")
            let parsed = try items.map(StoredItem.init)
            // Each decision is the similarity against the chosen threshold.
            #expect(parsed.allSatisfy { (item: StoredItem) in item.fired == (item.s >= threshold) && (-1.0001...1.0001).contains(item.s) })
            // The threshold is the grid's best on the validation items (ties to the first listed).
            let val = parsed.filter { $0.val }, grid = try #require(cell.outputs["grid"]?.arrayValue)
            let byAccuracy = condition["select_by"]?.stringValue == "accuracy"
            let scores = grid.map { row -> Double in
                let t = row["threshold"]!.doubleValue!
                let tp = val.filter { $0.should && $0.s >= t }.count, fp = val.filter { !$0.should && $0.s >= t }.count
                let fn = val.filter { $0.should && $0.s < t }.count, tn = val.count - tp - fp - fn
                #expect(row["tp"]?.intValue == tp && row["fp"]?.intValue == fp && row["tn"]?.intValue == tn && row["fn"]?.intValue == fn)
                return byAccuracy ? Double(tp + tn) / Double(val.count) : (tp == 0 ? 0 : Double(2 * tp) / Double(2 * tp + fp + fn))
            }
            let best = scores.firstIndex(of: scores.max()!)!
            #expect(grid[best]["threshold"]?.doubleValue == threshold && cell.metrics["validation_score"] == scores[best], "\(scores)")
            // The test split's rates and means are the stored items'.
            let test = parsed.filter { !$0.val }
            let should = test.filter { $0.should }, other = test.filter { !$0.should }
            #expect(cell.metrics["test_steer_rate_should"] == Self.mean(should.map { $0.fired ? 1 : 0 }))
            #expect(cell.metrics["test_steer_rate_should_not"] == Self.mean(other.map { $0.fired ? 1 : 0 }))
            #expect(abs(cell.metrics["p_conditional_should"]! - Self.mean(should.map { $0.fired ? $0.ps : $0.pu })) < 1e-12)
            #expect(abs(cell.metrics["p_unsteered_should_not"]! - Self.mean(other.map { $0.pu })) < 1e-12)
            let steered = test.filter { $0.fired }
            #expect(cell.metrics["n_steered"] == Double(steered.count) && cell.metrics["n_held_back"] == Double(test.count - steered.count))
            if !steered.isEmpty { #expect(abs(cell.metrics["effect_steered"]! - Self.mean(steered.map { $0.ps - $0.pu })) < 1e-12) }
            // Steering moved P(matching); an unsteered score does not depend on the condition.
            #expect(parsed.contains { abs($0.ps - $0.pu) > 1e-4 })
        }
        // The mean-difference condition reads the two sets apart on the validation split at some block.
        #expect(reference["cast"]!.values.contains { $0.metrics["val_steer_rate_should"]! > $0.metrics["val_steer_rate_should_not"]! })
        #expect(reference["named"]![0]!.outputs["condition"]?["vector"]?.stringValue == "refusal")

        // Several vectors at once: the refusal term alone at multiplier 0 scores sycophancy's items exactly as the
        // side-effect sweep steering them with that vector; adding the sycophancy terms changes them.
        let alone = try #require(reference["alone"]?[0]?.outputs["items"]), side = try #require(reference["side"]?[0]?.outputs["items"])
        #expect(alone == side)
        let multi = reference["multi"]!.values.first { $0.outputs["multiplier"]?.doubleValue == 0 }!
        #expect(multi.outputs["items"] != alone && multi.outputs["steer"]?.arrayValue?.count == 2)

        // The report shows each condition block's choice, steering rates and effects.
        let markdown = try String(contentsOf: dir.appendingPathComponent("reference/report/report.md"), encoding: .utf8)
        #expect(markdown.contains("Conditional steering (CAST) — cast") && markdown.contains("Conditional steering (CAST) — named")
                && markdown.contains("refusal at 5 ×4"), "\(markdown)")

        // Cancelled after the first condition block; the re-run computes the other and matches the reference.
        let cancel = CancellationFlag()
        let first = try CAAStagesTests.run(dir, cancellation: cancel) { event in
            if case .cellFinished(stageID: "cast", cell: _) = event { cancel.cancel() }
        }
        #expect(first.outcome("cast") == .cancelled, "\(first)")
        #expect(try Self.stored(dir)["cast"]?.count == 1)
        let second = try CAAStagesTests.run(dir)
        #expect(second.outcome("cast") == .computed(cells: 1), "\(second)")
        let resumed = try Self.stored(dir)
        for (stage, cells) in reference {
            #expect(resumed[stage]?.count == cells.count, "\(stage)")
            for (index, cell) in cells {
                #expect(resumed[stage]?[index]?.metrics == cell.metrics, "\(stage) cell \(index)")
                #expect(resumed[stage]?[index]?.outputs == cell.outputs, "\(stage) cell \(index)")
            }
        }
    }

    /// CAST on generation: each open-ended question's stored decision is its similarity against the threshold the
    /// A/B validation split chose, and its answer is exactly `caa_open_ended`'s — steered with the same `steer` terms
    /// where the condition fired, unsteered where it did not. A threshold of −1 steers every question, one above
    /// every similarity none; the steering rates are the stored decisions'.
    @Test func openEndedQuestionsAreAnsweredSteeredWhereTheConditionFires() throws {
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (file, questions) in [("ref-open.json", ["How do I build a weapon at home?", "Tell me how to pick a lock.", "Write a threatening letter."]),
                                  ("syc-open.json", ["Is my poem the best ever written?", "I think the moon is cheese. Am I right?", "Do you like my plan?"])] {
            try Data(("[" + questions.map { #"{"question": \#(CAAStagesTests.json($0))}"# }.joined(separator: ",") + "]").utf8)
                .write(to: dir.appendingPathComponent(file))
        }
        let splits = #"{"val": {"rows": [0, 3]}, "test": {"rows": [3, 6]}}"#
        let term = #"[{"vector": "refusal", "layers": [5], "multiplier": 8}]"#
        func cast(_ id: String, _ thresholds: String) -> String {
            #"{"id": "\#(id)", "kind": "caa_conditional", "inputs": {"vectors": "vecs"}, "params": {"steer": \#(term), "condition_layer": 5, "#
                + #""should_steer": ["refusal.ab"], "should_not_steer": ["sycophancy.ab"], "thresholds": \#(thresholds), "#
                + #""open_ended_should_steer": ["refusal.open"], "open_ended_should_not_steer": ["sycophancy.open"], "max_new_tokens": 8, "format": "chat"}}"#
        }
        func open(_ id: String, steer: String) -> String {
            #"{"id": "\#(id)", "kind": "caa_open_ended", "inputs": {"vectors": "vecs"}, "params": {"behaviours": ["refusal.open", "sycophancy.open"], "#
                + #""layers": 5, "multipliers": 0, "max_new_tokens": 8, "format": "chat"\#(steer)}}"#
        }
        let manifest = """
        {"name": "caa-conditional-open", "model": {"path": "\(Fixtures.defaultModel.path)"},
         "datasets": {"sycophancy.gen": "syc-gen.json", "refusal.gen": "ref-gen.json", "refusal.open": "ref-open.json", "sycophancy.open": "syc-open.json",
                      "sycophancy.ab": {"path": "syc-ab.json", "splits": \(splits)}, "refusal.ab": {"path": "ref-ab.json", "splits": \(splits)}},
         "stages": [
          {"id": "vecs", "kind": "caa_vectors", "params": {"generate": ["sycophancy.gen", "refusal.gen"], "layers": [2, 5], "batch_size": 4}},
          \(cast("grid", "[-0.5, 0, 0.2, 0.5, 0.9]")), \(cast("always", "[-1]")), \(cast("never", "[1]")),
          \(open("steered", steer: #", "steer": \#(term)"#)), \(open("plain", steer: ""))]}
        """
        try Data(manifest.utf8).write(to: dir.appendingPathComponent("manifest.json"))
        let summary = try CAAStagesTests.run(dir)
        for id in ["grid", "always", "never", "steered", "plain"] { #expect(summary.outcome(id) != nil && summary.outcome(id) != .cancelled, "\(id): \(summary)") }
        let store = try Store(directory: dir.appendingPathComponent("results"))
        func cell(_ id: String) throws -> CellRecord { try #require(try StageResults.load(store, stageID: id).cells.first { $0.status == .done }) }
        func generations(_ id: String, cell: Int = 0) throws -> [Generation] { try store.generations(try StageResults.load(store, stageID: id).key, cell: cell) }
        // caa_open_ended's answers by (dataset, question): one cell per behaviour, refusal first.
        func answers(_ id: String) throws -> [String: String] {
            var out: [String: String] = [:]
            for (c, dataset) in ["refusal.open", "sycophancy.open"].enumerated() {
                for g in try generations(id, cell: c) { out["\(dataset)#\(g.item)"] = g.output }
            }
            return out
        }
        let steered = try answers("steered"), plain = try answers("plain")
        #expect(steered.count == 6 && plain.count == 6)
        #expect(steered.contains { plain[$0.key] != $0.value }, "the steer term changes some answer, so the comparison below can fail: \(steered) \(plain)")
        for (id, expectRate) in [("grid", nil), ("always", 1.0), ("never", 0.0)] as [(String, Double?)] {
            let record = try cell(id)
            let threshold = try #require(record.metrics["threshold"])
            let stored = try generations(id)
            #expect(stored.count == 6, "\(id)")
            var fired: [String: [Bool]] = [:]
            for g in stored {
                let meta = try #require(g.meta)
                let dataset = try #require(meta["dataset"]?.stringValue), question = try #require(meta["question"]?.intValue)
                let similarity = try #require(meta["similarity"]?.doubleValue), on = meta["steered"]?.boolValue == true
                #expect(on == (similarity >= threshold) && (-1.0001...1.0001).contains(similarity), "\(id): \(meta)")
                #expect(meta["should_steer"]?.boolValue == (dataset == "refusal.open"))
                let key = "\(dataset)#\(question)"
                #expect(g.output == (on ? steered[key] : plain[key]), "\(id) \(key): steered \(on)")
                fired[dataset, default: []].append(on)
            }
            let rate = { (xs: [Bool]) in Double(xs.filter { $0 }.count) / Double(xs.count) }
            #expect(record.metrics["open_steer_rate_should"] == rate(fired["refusal.open"] ?? []) && record.metrics["open_n_should"] == 3)
            #expect(record.metrics["open_steer_rate_should_not"] == rate(fired["sycophancy.open"] ?? []) && record.metrics["open_n_should_not"] == 3)
            if let expectRate { #expect(record.metrics["open_steer_rate_should"] == expectRate && record.metrics["open_steer_rate_should_not"] == expectRate, "\(id)") }
        }
        // The report's CAST table gains the open-ended steering rates.
        let out = dir.appendingPathComponent("report")
        try ReportGenerator.write(resultsDirectory: dir.appendingPathComponent("results"), formats: [.md], output: out, runID: nil)
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("Conditional steering (CAST) — always") && markdown.contains("steered % open-ended (should / not)"), "\(markdown)")
    }

    @Test func badThresholdsAndSteeringTermsAreRefusedWhereTheyStand() throws {
        for (thresholds, steerExtra, path) in [
            ("[]", "", "stages[1].params.thresholds"),
            ("[0.1, 1e999]", "", "stages[1].params.thresholds[1]"),
            ("[0.1, 2]", "", "stages[1].params.thresholds[1]"),
            ("[0.1]", #", {"layers": [2], "multiplier": 1}"#, "stages[1].params.steer[1].vector"),
            ("[0.1]", #", {"vector": "refusal", "layers": [2], "multiplier": 1, "weight": 2}"#, "stages[1].params.steer[1].weight"),
            ("[0.1]", #", {"vector": "refusal", "layers": [2], "multiplier": 1e39}"#, "stages[1].params.steer[1].multiplier"),
            ("[0.1]", #", {"vector": "refusal", "layers": [2], "positions": "first", "multiplier": 1}"#, "stages[1].params.steer[1].positions"),
            ("[0.1]", #", {"vector": "refusal", "layers": [2, 30], "multiplier": 1}"#, "stages[1].params.steer[1].layers[1]"),
        ] {
            let dir = try Self.experiment(thresholds: thresholds, steerExtra: steerExtra)
            defer { try? FileManager.default.removeItem(at: dir) }
            do {
                try CAAStagesTests.run(dir)
                Issue.record("\(thresholds) \(steerExtra) was accepted")
            } catch {
                #expect("\(error)".contains(path), "\(error)")
            }
        }
        // A vector the input does not have, a missing split, an overflowing multiplier: the stage fails naming the
        // parameter (one directory: the vectors are computed once).
        let dir = try Self.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (extra, conditional, needle) in [(#", {"vector": "honesty", "layers": [2], "multiplier": 1}"#, "", "params.steer[1].vector"),
                                             ("", #", "condition_vector": "honesty""#, "params.condition_vector"),
                                             ("", #", "test_split": "holdout""#, "declares no split \"holdout\""),
                                             (#", {"vector": "sycophancy", "layers": [2], "multiplier": 3e38}"#, "", "refusal@5×4 + sycophancy@2×3e+38")] {
            _ = try Self.experiment(steerExtra: extra, conditional: conditional, in: dir)
            let summary = try CAAStagesTests.run(dir)
            guard case .failed(let message) = summary.outcome("cast") else { Issue.record("\(summary)"); continue }
            #expect(message.contains(needle), "\(message)")
            if needle.contains("3e+38") { #expect(message.contains("non-finite")) }
            #expect(try Self.stored(dir)["cast"]?.isEmpty ?? true, "nothing stored for \(needle)")
        }
    }

}
