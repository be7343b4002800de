import Experiments
import Foundation
import ModelFormats
import Pipeline
import Testing
import TestSupport

/// Datasets named in a manifest (`{"dataset": "gpt4_facts"}`) resolve through the descriptors and the mirror;
/// paths keep working; every misuse is an error at its JSON path.
@Suite struct ManifestDatasetNameTests {
    /// A catalog of two datasets (one file; three files in one folder) and a mirror holding them.
    static func library() throws -> (DatasetLibrary, URL) {
        let root = try Fixtures.temporaryDirectory("reptune-names")
        func file(_ role: String, _ path: String, _ text: String) throws -> DatasetFileDescriptor {
            let data = Data(text.utf8)
            try FileManager.default.createDirectory(at: root.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: root.appendingPathComponent(path))
            return DatasetFileDescriptor(role: role, path: path, sha256: SHA256.hex(of: data), bytes: data.count, format: "text")
        }
        let facts = DatasetDescriptor(name: "toy_facts", title: "t", sourceURL: "https://github.com/o/r", sourceCommit: "c", licence: "MIT",
                                      parser: "true-false-statements", files: [try file("data", "toy/facts.csv", "statement,label\na,1\n")])
        let folder = DatasetDescriptor(name: "toy_folder", title: "t", sourceURL: "https://github.com/o/r", sourceCommit: "c", licence: "MIT",
                                       parser: "x", files: [try file("one", "folder/one.txt", "1"), try file("two", "folder/two.txt", "2")])
        return (DatasetLibrary(catalog: DatasetCatalog(descriptors: [facts, folder]), mirror: DatasetMirror(root: root, origin: .environment)), root)
    }

    static func decode(_ datasets: String, library: DatasetLibrary?) throws(ManifestErrors) -> Manifest {
        try Manifest.decode("""
            {"name": "n", "model": "/nonexistent/model.gguf", "datasets": \(datasets),
             "stages": [{"id": "e", "kind": "evaluate", "params": {"task": "facts", "dataset": "d"}}]}
            """, baseDirectory: URL(fileURLWithPath: "/work/experiments"),
            options: ManifestOptions(requireModel: false, datasets: library))
    }

    @Test func namesResolveInTheMirror() throws {
        let (library, root) = try Self.library()
        defer { try? FileManager.default.removeItem(at: root) }
        let m = try Self.decode(#"{"d": {"dataset": "toy_facts", "splits": {"few": {"rows": [0, 1]}}}, "f": "toy_folder", "one": {"dataset": "toy_folder", "file": "two"}}"#, library: library)
        let d = try #require(m.dataset("d"))
        #expect(d.catalogName == "toy_facts" && d.path == "toy/facts.csv")
        #expect(d.url.path == root.appendingPathComponent("toy/facts.csv").standardizedFileURL.path)
        #expect(d.split("few") != nil)
        #expect(m.dataset("f")?.url.path == root.appendingPathComponent("folder").standardizedFileURL.path)   // a plain string that is a name
        #expect(m.dataset("one")?.url.lastPathComponent == "two.txt")
        // A path is still a path, relative to the manifest.
        var options = ManifestOptions(checkFiles: false, requireModel: false, datasets: library)
        options.checkFiles = false
        let p = try Manifest.decode(#"{"name": "n", "datasets": {"d": "../data/x.csv"}, "stages": [{"id": "e", "kind": "evaluate", "params": {"task": "facts", "dataset": "d"}}]}"#,
                                    baseDirectory: URL(fileURLWithPath: "/work/experiments"), options: options)
        #expect(p.dataset("d")?.url.path == "/work/data/x.csv" && p.dataset("d")?.catalogName == nil)
    }

    @Test func misusesAreErrorsAtTheirPath() throws {
        let (library, root) = try Self.library()
        defer { try? FileManager.default.removeItem(at: root) }
        func errors(_ datasets: String, library: DatasetLibrary? = nil) -> String {
            do { _ = try Self.decode(datasets, library: library); return "" } catch { return error.description }
        }
        let unknown = errors(#"{"d": {"dataset": "toy_fact"}}"#, library: library)
        #expect(unknown.contains("datasets.d.dataset") && unknown.contains(#"did you mean "toy_facts"?"#), "\(unknown)")
        let role = errors(#"{"d": {"dataset": "toy_folder", "file": "three"}}"#, library: library)
        #expect(role.contains("datasets.d.file") && role.contains("one, two"), "\(role)")
        let both = errors(#"{"d": {"dataset": "toy_facts", "path": "x.csv"}}"#, library: library)
        #expect(both.contains("exactly one of \"dataset\" and \"path\""), "\(both)")
        let neither = errors(#"{"d": {"splits": {}}}"#, library: library)
        #expect(neither.contains("found neither"), "\(neither)")
        let fileWithPath = errors(#"{"d": {"path": "/dev/null", "file": "data"}}"#, library: library)
        #expect(fileWithPath.contains("datasets.d.file") && fileWithPath.contains("only with \"dataset\""), "\(fileWithPath)")
        let noLibrary = errors(#"{"d": {"dataset": "toy_facts"}}"#)
        #expect(noLibrary.contains("no dataset descriptors were given"), "\(noLibrary)")
        let typo = errors(#"{"d": "toy_fact"}"#, library: library)   // a string that is no name is a path…
        #expect(typo.contains("no such file: /work/experiments/toy_fact") && typo.contains("toy_facts"), "\(typo)")   // …with the near name
        // A named dataset whose files are not in the mirror says which are missing, where, and how to fetch them.
        try FileManager.default.removeItem(at: root.appendingPathComponent("folder/two.txt"))
        let missing = errors(#"{"d": "toy_folder"}"#, library: library)
        #expect(missing.contains("folder/two.txt missing") && missing.contains("reptune datasets fetch toy_folder")
                && missing.contains(root.path) && missing.contains("$REPTUNE_DATA"), "\(missing)")
    }
}
