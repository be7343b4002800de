import Experiments
import Foundation

/// Checks a manifest's dataset files against the repository's dataset descriptors (`datasets/*.json`): a file
/// whose path ends like a descriptor's file (`gpt4_facts/gpt4_facts.csv`) must have that file's sha256, so a
/// run never silently scores a different copy of a dataset. Files no descriptor knows are not checked.
public enum DatasetVerification {
    /// One file whose content differs from its descriptor.
    public struct Mismatch: Sendable, CustomStringConvertible {
        public var dataset: String
        public var file: String
        public var descriptor: String
        public var expected: String
        public var found: String

        public var description: String {
            "dataset \(dataset): \(file) has sha256 \(found), but the descriptor datasets/\(descriptor).json expects \(expected) "
                + "(a different copy of the data; restore the mirror or point the manifest at the right file)"
        }
    }

    /// Every file of `manifest`'s datasets that a descriptor of `catalog` names and whose digest differs.
    public static func mismatches(_ manifest: Manifest, catalog: DatasetCatalog,
                                  digest: (URL) throws -> String) throws -> [Mismatch] {
        var out: [Mismatch] = []
        for ref in manifest.datasets {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: ref.url.path, isDirectory: &isDirectory) else { continue }
            let files: [URL] = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: ref.url.path)) ?? []).sorted().map { ref.url.appendingPathComponent($0) }
                : [ref.url]
            for file in files {
                let path = file.standardizedFileURL.path
                for descriptor in catalog.descriptors {
                    for known in descriptor.files where path.hasSuffix("/" + known.path) {
                        let found = try digest(file)
                        if found != known.sha256 {
                            out.append(Mismatch(dataset: ref.name, file: path, descriptor: descriptor.name,
                                                expected: known.sha256, found: found))
                        }
                    }
                }
            }
        }
        return out
    }
}
