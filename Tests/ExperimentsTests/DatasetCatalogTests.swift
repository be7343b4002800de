import Experiments
import Foundation
import Testing
import TestSupport

/// The committed descriptors describe the local mirror exactly, and a damaged file is refused with its hashes.
struct DatasetCatalogTests {
    static let descriptors = Fixtures.repoRoot.appendingPathComponent("datasets")

    @Test(.enabled(if: Fixtures.hasShared, Fixtures.noShared))
    func everyDatasetIsVerifiedInTheSharedMirror() throws {
        let catalog = try DatasetCatalog(descriptorDirectory: Self.descriptors, mirror: Fixtures.datasets)
        #expect(Set(catalog.descriptors.map(\.name)) == ["facts_true_false", "gpt4_facts", "truthfulqa", "morally_ambiguous",
                                                         "instrumental_lying", "wikitext2_test"])
        for d in catalog.descriptors { #expect(catalog.status(of: d) == .verified, "\(d.name)") }
    }

    @Test func missingAndMismatchedFilesAreReported() throws {
        let mirror = try Fixtures.temporaryDirectory("mirror")
        let catalog = try DatasetCatalog(descriptorDirectory: Self.descriptors, mirror: mirror)
        let gpt4 = try catalog.descriptor(named: "gpt4_facts")
        #expect(catalog.status(of: gpt4) == .missing)
        let path = mirror.appendingPathComponent(gpt4.files[0].path)
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: gpt4.files[0].bytes).write(to: path)
        #expect(catalog.status(of: gpt4) == .mismatch)
        #expect(catalog.status(of: gpt4, hash: false) == .present)
        let error = #expect(throws: DatasetError.self) { try catalog.verifiedFile("gpt4_facts") }
        #expect(error?.description.contains("sha256 expected 3542ca44") == true)
        let unknown = #expect(throws: DatasetError.self) { try catalog.descriptor(named: "gpt5_facts") }
        #expect(unknown?.description.contains("unknown dataset \"gpt5_facts\"") == true)
    }
}
