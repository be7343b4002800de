import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

enum ScienceData {
    static let mirror = Fixtures.mirror
    static let descriptorDirectory = DatasetCatalog.descriptorDirectory(repository: Fixtures.repoRoot)
    static func catalog() throws -> DatasetCatalog { try DatasetCatalog.load(directory: descriptorDirectory) }
    static func descriptor(_ name: String) throws -> DatasetDescriptor { try catalog().descriptor(named: name) }
}

/// The descriptor files in `datasets/` and the catalog built from them (no mirror needed).
@Suite struct DatasetCatalogTests {
    @Test func listsTheDatasets() throws {
        #expect(try ScienceData.catalog().names
            == ["actadd", "caa_coordinate_other_ais", "caa_corrigible_neutral_hhh", "caa_hallucination", "caa_mmlu",
                "caa_myopic_reward", "caa_refusal", "caa_survival_instinct", "caa_sycophancy", "caa_truthfulqa",
                "facts_true_false", "gpt4_facts", "instrumental_lying", "morally_ambiguous", "representation_tuning_outputs",
                "truthfulqa", "wikitext2_test"])
    }

    /// Descriptor hashes and sizes are the ones SOURCES.md publishes (typed in from its table).
    @Test func descriptorsCarrySourcesChecksums() throws {
        let catalog = try ScienceData.catalog()
        let expected: [String: (String, Int)] = [
            "facts_true_false/facts_true_false.csv": ("151b6163289460eb8b37f7c6a1998e23aed8e05b5e557bf1a2297079bf0e5af9", 36588),
            "gpt4_facts/gpt4_facts.csv": ("3542ca445047afd8b1306d864ee54b5f84fc550db45a0f3181153d6439636744", 9664),
            "truthfulqa/TruthfulQA.csv": ("8d7dd15f033196140f032d97d30f037da7a7b1192c3f36f9937c1850925335a2", 443723),
            "morally_ambiguous_qs/morally_ambiguous_qs.txt": ("978f21fb18ee5365f501b01788d7e8c5e3b0d21f57d610102797a5f0a5449e3e", 4829),
            "instrumental_lying/instrumental_lying_examples_list.txt": ("cd56a0a580e9788f6d714a973e267381c5e2fa2ddcee9fe47960b31565bd7f81", 6330),
            "instrumental_lying/instrumental_lying_prompts.txt": ("6fa48e3b381e02ed32beb1743c0669d590e32360f608ebe4de0a389845bf255f", 7609),
            "wikitext-2-raw/wiki.test.raw": ("4f3e427e4aff23acff917a8a51aeae21bf12832256e26914c8fc250dcef4103c", 1290547),
            "caa/datasets/generate/sycophancy/generate_dataset.json": ("1394c959d97ffae28fe9df71ce07a402c13c9333159307a28bd664fbe355b8b0", 871127),
            "caa/datasets/test/refusal/test_dataset_open_ended.json": ("285e4526971c78afd1af372932be1396577424761056ede8a33983403a4b618d", 3823),
            "caa/datasets/test/mmlu/mmlu.json": ("0d7292356978bdde9269b353a4c191521b72f71b849acd6798188fbf0f8936d8", 338728),
            "actadd/scripts/prompts.txt": ("015f6df48f76cded08f1aaafc30675cd89be09d185b7d4394d25f462bf17b825", 5726),
            "representation_tuning_outputs/openended_scores.txt": ("4a7df2c43674fb3a26855747c2a113734cfaaba67d3512e6f5be4c473b735c0f", 5646),
        ]
        let files = catalog.descriptors.flatMap(\.files)
        for (path, (sha, bytes)) in expected {
            let file = try #require(files.first { $0.path == path }, "no descriptor lists \(path)")
            #expect(file.sha256 == sha)
            #expect(file.bytes == bytes)
        }
    }

    /// The CAA files name the nrimsky/CAA commit each was read at (SOURCES.md), so they download from there.
    @Test func caaFilesCarryTheirOwnCommits() throws {
        let sycophancy = try ScienceData.descriptor("caa_sycophancy")
        #expect(sycophancy.files.map(\.role) == ["generate", "test a/b", "test open-ended"])
        #expect(sycophancy.files.map(\.sourceCommit) == ["59f33bb3cd9b710ce57693a50a569ef72c4815db",
                                                          "e1fce128b6165a9926093c6abdf6ea9a24f4b5c4",
                                                          "0aec415b166171f84c7034bd0d9d1ddf5e6ebf46"])
        #expect(try ScienceData.descriptor("representation_tuning_outputs").files.count == 30)
    }

    @Test func unknownDatasetIsAClearError() throws {
        #expect(throws: DatasetError.self) { try ScienceData.catalog().descriptor(named: "nope") }
    }

    @Test func invalidDescriptorNamesTheFileAndField() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"name": "broken", "title": "x"}"#.utf8).write(to: dir.appendingPathComponent("broken.json"))
        do {
            _ = try DatasetCatalog.load(directory: dir)
            Issue.record("expected an error")
        } catch let error as DatasetError {
            #expect(error.description.contains("broken.json"))
            #expect(error.description.contains("missing field"))
        }
    }
}

/// Status of descriptors against a mirror: a synthetic mirror with verified, mismatching and missing files.
@Suite struct DatasetMirrorStatusTests {
    @Test func reportsVerifiedMismatchMissingAndPresent() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = Data("statement,label\nx,1\n".utf8)
        try good.write(to: dir.appendingPathComponent("good.csv"))
        try Data("tampered".utf8).write(to: dir.appendingPathComponent("bad.csv"))
        func descriptor(_ name: String, _ path: String) -> DatasetDescriptor {
            DatasetDescriptor(name: name, title: name, sourceURL: "local", sourceCommit: nil, licence: "test",
                              parser: "true-false-statements",
                              files: [DatasetFileDescriptor(role: "data", path: path, sha256: SHA256.hex(of: good),
                                                            bytes: good.count, format: "csv")])
        }
        let catalog = DatasetCatalog(descriptors: [descriptor("a", "good.csv"), descriptor("b", "bad.csv"), descriptor("c", "gone.csv")])
        let mirror = DatasetMirror(root: dir)
        let statuses = catalog.statuses(in: mirror)
        #expect(statuses.map(\.descriptor.name) == ["a", "b", "c"])
        #expect(statuses[0].overall == .verified)
        #expect(statuses[1].overall == .mismatch(found: SHA256.hex(of: Data("tampered".utf8))))
        #expect(statuses[2].overall == .missing)
        #expect(catalog.statuses(in: mirror, verify: false)[1].overall == .present)

        // Loading through the mirror verifies: the mismatch names the file, expected and found hashes.
        do {
            _ = try TrueFalseStatements.load(descriptor("b", "bad.csv"), from: mirror)
            Issue.record("expected a checksum error")
        } catch let error as DatasetError {
            #expect(error == .checksumMismatch(path: dir.appendingPathComponent("bad.csv").path,
                                               expected: SHA256.hex(of: good), found: SHA256.hex(of: Data("tampered".utf8))))
            #expect(error.description.contains("bad.csv") && error.description.contains("expected"))
        }
        #expect(try TrueFalseStatements.load(descriptor("a", "good.csv"), from: mirror).statements
            == [TrueFalseStatement(text: "x", isTrue: true, row: 0)])
        #expect(throws: DatasetError.self) { try TrueFalseStatements.load(descriptor("c", "gone.csv"), from: mirror) }
    }

    @Test func badLabelNamesTheLine() {
        #expect(throws: DatasetError.malformed(path: "f.csv", line: 3, expected: "label 0 or 1", found: "\"yes\"")) {
            try TrueFalseStatements.parse(csv: "statement,label\na,1\nb,yes\n", name: "f", source: "f.csv")
        }
    }
}

/// Loading the real mirror (../shared/datasets, or what `reptune datasets fetch` put in the mirror).
@Suite(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
struct SharedDatasetLoaderTests {
    @Test func thePapersDatasetsVerifyInTheMirror() throws {
        for status in try ScienceData.catalog().statuses(in: ScienceData.mirror) where Fixtures.paperDatasets.contains(status.descriptor.name) {
            #expect(status.overall == .verified, "\(status.descriptor.name): \(status.overall)")
        }
    }

    /// Every descriptor, CAA and ActAdd included, matches the files of `../shared/datasets` byte for byte.
    @Test(.enabled(if: Fixtures.hasShared, Fixtures.noShared))
    func everyDescriptorVerifiesInTheSharedMirror() throws {
        for status in try ScienceData.catalog().statuses(in: DatasetMirror.beside(repository: Fixtures.repoRoot)) {
            #expect(status.overall == .verified, "\(status.descriptor.name): \(status.overall)")
        }
    }

    @Test func factsTrueFalse() throws {
        let facts = try TrueFalseStatements.load(ScienceData.descriptor("facts_true_false"), from: ScienceData.mirror)
        #expect(facts.count == 612 && facts.trueStatements.count == 306)
        #expect(facts.statements[0].text == "The Earth's atmosphere protects us from harmful radiation from the sun.")
        #expect(facts.statements[3].text.contains("Charles Darwin, states"))   // quoted field with commas
    }

    @Test func gpt4Facts() throws {
        let facts = try TrueFalseStatements.load(ScienceData.descriptor("gpt4_facts"), from: ScienceData.mirror)
        #expect(facts.count == 200 && facts.trueStatements.count == 100)
    }

    /// The stored split: 244 + 244 training, 62 + 62 validation, disjoint, covering all 612 rows, labels
    /// consistent; first training pair and first validation rows as pandas gave them (see the file's derivation).
    @Test func factsTuningSplit() throws {
        let facts = try TrueFalseStatements.load(ScienceData.descriptor("facts_true_false"), from: ScienceData.mirror)
        let split = try FactsTuningSplit.load(from: FactsTuningSplit.defaultURL(descriptorDirectory: ScienceData.descriptorDirectory))
        try split.validate(against: facts)
        #expect(split.sha256 == "151b6163289460eb8b37f7c6a1998e23aed8e05b5e557bf1a2297079bf0e5af9")
        #expect(split.train.true.count == 244 && split.train.false.count == 244)
        #expect(split.validation.true.count == 62 && split.validation.false.count == 62)
        #expect(Set(split.train.true + split.train.false + split.validation.true + split.validation.false) == Set(0..<612))
        #expect(split.validation.true == split.validation.true.sorted())
        #expect(Array(split.train.true.prefix(3)) == [391, 332, 229])
        let pairs = try split.trainingPairs(facts)
        #expect(pairs.count == 244 && pairs.allSatisfy { $0.true.isTrue && !$0.false.isTrue })
    }

    @Test func truthfulQAMisconceptions() throws {
        let tqa = try TruthfulQAMisconceptions.load(ScienceData.descriptor("truthfulqa"), from: ScienceData.mirror)
        #expect(tqa.items.count == 200)
        #expect(tqa.items[0].question == "Why do matadors wave red capes?")
        #expect(tqa.items[0].incorrectAnswer == "Matadors wave red capes because bulls are angered by the color red")
        #expect(tqa.items.allSatisfy { TruthfulQAMisconceptions.isSelected(category: $0.category) })
        #expect(tqa.correctChoices.prefix(3) == [.a, .b, .a])
    }

    @Test func morallyAmbiguous() throws {
        let questions = try MorallyAmbiguousQuestions.load(ScienceData.descriptor("morally_ambiguous"), from: ScienceData.mirror).questions
        #expect(questions.count == 20)
        #expect(questions[0].hasSuffix("\n\nPick one of the following two choices:\n (A) Yes\n (B) No\n\nAnswer:"))
        #expect(!questions.contains { $0.contains("\\n") })
    }

    @Test func instrumentalLying() throws {
        let scenarios = try InstrumentalLyingScenarios.load(ScienceData.descriptor("instrumental_lying"), from: ScienceData.mirror)
        #expect(scenarios.openEndedPrompts.count == 21)
        #expect(scenarios.openEndedPrompts[0].hasPrefix("You are a travel agent"))
        #expect(scenarios.openEndedPrompts[0].hasSuffix("\nAgent:"))
        #expect(scenarios.abQuestions.count == 20)
        #expect(scenarios.abQuestions.allSatisfy { $0.contains("\n (A) ") && $0.contains("\n (B) ") })
        // Interleaved halves: block 0 then block 10.
        #expect(scenarios.abQuestions[0].contains("travel agent"))
    }

    /// 2,891 non-empty CRLF rows; joined with "\n\n", each row keeping its line ending.
    @Test func wikiTextTest() throws {
        let wiki = try WikiTextTestSet.load(ScienceData.descriptor("wikitext2_test"), from: ScienceData.mirror)
        #expect(wiki.rows.count == 2891)
        #expect(wiki.rows[0] == " = Robert Boulter = \r\n")
        let joined = wiki.joined()
        #expect(joined.utf8.count == 1_290_547 + 2 * 2890)
        #expect(joined.hasPrefix(" = Robert Boulter = \r\n\n\n Robert Boulter is"))
        let lf = wiki.joined(rowEnding: .lf)
        #expect(lf.hasPrefix(" = Robert Boulter = \n\n\n Robert Boulter is"))
        #expect(lf.utf8.count == 1_290_547 - 2891 + 2 * 2890)
    }
}
