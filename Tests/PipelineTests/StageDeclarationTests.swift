import Foundation
import Pipeline
import Testing
import TestSupport

/// Every stage kind is one `StageDeclaration`, and what reads a kind reads it from there: typed parameters name only
/// declared parameters, a runner stores only declared metrics and artifacts, and the report reads only declared
/// metrics.
@Suite("Stage declarations")
struct StageDeclarationTests {
    @Test func everyKindIsDeclaredOnceAndRegistered() {
        let names = StageKind.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        #expect(StageRegistry.standard.kinds == StageKind.allCases)
        #expect(StageCatalog.all.map(\.kind) == StageKind.allCases)
        #expect(StageKind(rawValue: "collect_activations") == .collectActivations)
        #expect(StageKind(rawValue: "colect_activations") == nil)
        for d in StageDeclaration.all {
            #expect(d.version >= 1, "\(d.kind)")
            #expect(d.runner.outputs != nil, "\(d.kind): the registered runner checks its outputs")
            #expect(!d.outputs.metrics.isEmpty, "\(d.kind)")
            #expect(!d.sources.isEmpty, "\(d.kind)")
        }
        // The kinds that save progress are the ones Ctrl-C names and, where small, the ones `pack` carries.
        #expect(StageDeclaration.savingProgress.map(\.kind) == [.collectActivations, .steeringSweep, .tune, .perplexity, .actAddTopic, .caaVectors])
        #expect(StageDeclaration.interruptSummary
                == "cells stop at their next unit of work, collect_activations, steering_sweep, tune, perplexity, actadd_topic and caa_vectors saving their progress; cells still computing after 8 s are left to the next run")
        #expect(StageDeclaration.all.filter(\.progress.packed).map(\.kind) == [.steeringSweep, .perplexity, .actAddTopic, .caaVectors])
    }

    /// Every kind's typed parameters decode from the resolved parameters of the sample manifest's stages.
    @Test func typedParamsDecodeFromEveryKindsResolvedParams() throws {
        let stages = try Samples.decode(Samples.full).stages + Samples.decode(Samples.caa).stages
        #expect(Set(stages.map(\.kind)) == Set(StageKind.allCases))
        for stage in stages {
            #expect(throws: Never.self, "\(stage.id)") { try stage.kind.declaration.decodeParams(stage.params) }
        }
    }

    /// A params struct naming a parameter its kind does not declare fails to decode, naming it, instead of reading
    /// a default.
    @Test func aMistypedParameterNameFailsToDecode() throws {
        struct Mistyped: Decodable { var windw: Int? }
        let params = try #require(try Samples.decode(Samples.full).stages.first { $0.kind == .perplexity }).params
        let error = try #require(throws: StageParamsError.self) {
            try StageParamsDecoder.decode(Mistyped.self, from: params, spec: StageKind.perplexity.spec)
        }
        #expect(error.description.contains("reads parameter `windw`, which its declaration does not list"))
        struct WrongType: Decodable { var window: String }
        #expect(throws: StageParamsError.self) { try StageParamsDecoder.decode(WrongType.self, from: params, spec: StageKind.perplexity.spec) }
    }

    /// A declared runner that stores a metric its declaration does not list fails its cell, naming the metric; the
    /// same runner storing declared metrics only is stored.
    @Test func aRunnerStoringAnUndeclaredMetricFails() throws {
        func registry(metric: String) -> StageRegistry {
            var r = Arith.registry(log: CallLog())
            var runner = StageRunner.perCell { _, _ in CellResult(metrics: ["perplexity": 2, metric: 1]) }
            runner.outputs = StageDeclaration.perplexity.outputs
            r.register(.perplexity, runner)
            return r
        }
        let dir = try Arith.experiment()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = try Arith.run(dir, registry: registry(metric: "tokns"), only: ["ppl"])
        guard case .failed(let message)? = bad.outcome("ppl") else { Issue.record("expected a failure: \(bad)"); return }
        #expect(message.contains("stored metric `tokns`, which the kind's declaration does not list"), "\(message)")
        let good = try Arith.run(dir, registry: registry(metric: "tokens"), only: ["ppl"])
        #expect(good.outcome("ppl") == .computed(cells: 1), "\(good)")
    }

    /// The report reads metrics by declared names only: an undeclared one is an error naming kind and metric.
    @Test func theReportReadsDeclaredMetricsOnly() throws {
        #expect(try StageOutputs.metric("honest_pct", of: .evaluate) == "honest_pct")
        let error = try #require(throws: StageOutputsError.self) { try StageOutputs.metric("a_win_pct", of: .judge) }
        #expect(error.description == "the report reads metric `a_win_pct` of judge, which its declaration does not list")
    }
}
