import Foundation
import Testing
import Experiments
import Pipeline
import TestSupport

/// What a stage reads from a manifest dataset, on the real files in the mirror.
@Suite(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct StageDatasetTests {
    static func load(_ path: String) throws -> StageDataset {
        let manifest = try Manifest.decode("""
            {"name": "datasets", "model": "model.gguf", "datasets": {"d": \(path.debugDescription)},
             "stages": [{"id": "e", "kind": "evaluate", "params": {"task": "open_ended", "dataset": "d"}}]}
            """, baseDirectory: Fixtures.datasets, options: ManifestOptions(requireModel: false))
        return try StageDataset.load(manifest.dataset("d")!, split: nil)
    }

    /// The instrumental-lying directory gives the 21 open-ended role-play prompts of
    /// `instrumental_lying_examples_list.txt` and the 20 A/B blocks of `instrumental_lying_prompts.txt`
    /// (`../shared/datasets/SOURCES.md`); each file alone gives its own half.
    @Test func instrumentalLyingDirectoryHasBothPromptSets() throws {
        guard case .instrumentalLying(let openEnded, let ab) = try Self.load("instrumental_lying") else {
            Issue.record("not read as instrumental-lying material"); return
        }
        #expect(openEnded.count == 21 && ab.count == 20)
        #expect(openEnded.first?.hasPrefix("You are a travel agent") == true)
        #expect(openEnded.allSatisfy { !$0.contains("[INST]") && !$0.contains("\"\"\"") })
        #expect(ab.allSatisfy { $0.contains("(A)") && $0.contains("(B)") })
        guard case .instrumentalLying(let listOnly, let noAB) = try Self.load("instrumental_lying/instrumental_lying_examples_list.txt"),
              case .instrumentalLying(let noOpen, let abOnly) = try Self.load("instrumental_lying/instrumental_lying_prompts.txt") else {
            Issue.record("single files not read as instrumental-lying material"); return
        }
        #expect(listOnly == openEnded && noAB.isEmpty && noOpen.isEmpty && abOnly == ab)
    }
}
