import Experiments
import Foundation
import Pipeline
import TestSupport

/// The Slurm suite's manifest, derived at test time from experiments/quickstart.json, so that a stage added to the
/// quickstart is run through `--executor slurm` and compared with `--executor local` without editing the suite.
///
/// Kept as they are: every stage, its id, kind, inputs and parameters (layers, multipliers, positions, learning
/// rates, batch sizes, report formats…), the model, the datasets and which of their splits each stage reads, and
/// `defaults`. Shrunk, so that the suite stays within a few minutes on CI's 2 cores: only the amount of data —
///   - every split given as `rows` or `indices` keeps its first `rows` rows, except a split a `tune` stage trains on,
///     which keeps `trainingRows` (several optimizer steps, so that the scancel test can land between two of them);
///   - the parameters named in `caps` (samples, new tokens, perplexity tokens), wherever a stage or `defaults` sets
///     them, are lowered to the cap;
///   - a text a stage reads whole (the datasets the parameters in `wholeTexts` name: ActAdd's on-/off-topic essays,
///     ~750 tokens each, scored sentence by sentence in every cell — a text file has no row range) is replaced by its
///     first `textLines` lines, copied beside the manifest.
/// What cannot be shrunk this way runs at its quickstart size: the wikitext that perplexity and the KL controls read
/// (bounded by `max_tokens` and the KL's own 256 tokens), the sweep's grid of layers × multipliers (20 cells: they are
/// parameters, and the grid is what the job array splits). A new quickstart stage whose work is set by a parameter
/// not in `caps` or `wholeTexts` also runs at full size — still covered, only slower: add its parameter there.
///
/// Added: `judge_unreachable`, a judge of two of the quickstart's evaluations whose endpoint refuses connections, for
/// the suite's failing unit (its cell fails three times while the rest of the DAG goes on).
enum SlurmSuiteManifest {
    static let quickstart = Fixtures.repoRoot.appendingPathComponent("experiments/quickstart.json")
    /// Rows a split keeps at most.
    static let rows = 4
    /// Rows a tune's training split keeps at most: 8 steps of the quickstart tune's batch of 4.
    static let trainingRows = 32
    /// Parameters that only set how much is computed, and their caps.
    static let caps: [String: Int] = ["samples_per_prompt": 2, "max_new_tokens": 8, "max_tokens": 384]
    /// Parameters naming a text dataset a stage reads whole, and the lines of it the suite keeps.
    static let wholeTexts = ["on_topic_text", "off_topic_text"]
    static let textLines = 5
    /// The two evaluations the unreachable judge compares.
    static let judged = (a: "facts_base", b: "facts_tuned")

    /// The quickstart's stages as (id, kind), in its order.
    static func quickstartStages() throws -> [(id: String, kind: String)] {
        try parse(quickstart)["stages"]?.arrayValue?.compactMap { s in
            s["id"]?.stringValue.flatMap { id in s["kind"]?.stringValue.map { (id, $0) } }
        } ?? []
    }

    /// The derived manifest's text; the shortened texts it reads are written to `directory`.
    static func text(writingTextsTo directory: URL) throws -> String {
        let root = try parse(quickstart)
        guard let stages = root["stages"]?.arrayValue else { throw SuiteManifestError("\(quickstart.path): no stages array") }
        let ids = Set(stages.compactMap { $0["id"]?.stringValue })
        guard ids.contains(judged.a), ids.contains(judged.b) else {
            throw SuiteManifestError("\(quickstart.path): the suite's judge compares stages \(judged.a) and \(judged.b), which the quickstart no longer has")
        }
        // "name:split" of every split a tune trains on.
        let training = Set(stages.filter { $0["kind"]?.stringValue == "tune" }.compactMap { $0["params"]?["dataset"]?.stringValue })
        let texts = Set(stages.flatMap { s in wholeTexts.compactMap { s["params"]?[$0]?.stringValue } })
        let judge: JSONValue = .object([
            "id": "judge_unreachable", "kind": "judge",
            "inputs": .object(["a": .string(judged.a), "b": .string(judged.b)]),
            "params": .object(["backend": "openai", "url": "http://127.0.0.1:9/v1", "model": "judge", "key_env": "HOME"]),
        ])
        var failure: Error?
        let derived = replacing(root) { key, value in
            switch key {
            case "datasets":
                return replacing(shrunkDatasets(value, training: training)) { name, dataset in
                    guard texts.contains(name) else { return dataset }
                    do { return try shortenedText(name, dataset, in: directory) } catch { failure = error; return dataset }
                }
            case "defaults": return capped(value)
            case "stages": return .array((value.arrayValue ?? []).map { stage in replacing(stage) { $0 == "params" ? capped($1) : $1 } } + [judge])
            default: return value
            }
        }
        if let failure { throw failure }
        return CanonicalJSON.pretty(derived) + "\n"
    }

    /// The dataset entry `name` replaced by the path of its first `textLines` lines, written to `directory`.
    static func shortenedText(_ name: String, _ entry: JSONValue, in directory: URL) throws -> JSONValue {
        let source: URL
        if let path = entry["path"]?.stringValue ?? entry.stringValue.flatMap({ $0.contains("/") ? $0 : nil }) {
            source = URL(fileURLWithPath: path, relativeTo: quickstart.deletingLastPathComponent())
        } else if let dataset = entry["dataset"]?.stringValue ?? entry.stringValue {
            let descriptor = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: Fixtures.repoRoot))
                .descriptor(named: dataset)
            let file = try entry["file"]?.stringValue.map { try descriptor.file(role: $0) } ?? descriptor.files.first
            guard let file, entry["file"] != nil || descriptor.files.count == 1 else {
                throw SuiteManifestError("\(quickstart.path): datasets.\(name): dataset \(dataset) has several files and no `file` role")
            }
            source = Fixtures.mirror.url(for: file)
        } else {
            throw SuiteManifestError("\(quickstart.path): datasets.\(name) is neither a path nor a named dataset")
        }
        let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).prefix(textLines)
        let head = directory.appendingPathComponent("\(name)-head.txt")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: head)
        return .object(["path": .string(head.path)])
    }

    static func parse(_ url: URL) throws -> JSONValue {
        try JSONParser.parse(String(contentsOf: url, encoding: .utf8))
    }

    /// `object` with each member's value replaced by `transform(key, value)`.
    static func replacing(_ object: JSONValue, _ transform: (String, JSONValue) -> JSONValue) -> JSONValue {
        guard let members = object.objectValue else { return object }
        return .object(members.map { JSONMember(key: $0.key, value: transform($0.key, $0.value)) })
    }

    /// A params (or defaults) object with the `caps` applied.
    static func capped(_ params: JSONValue) -> JSONValue {
        replacing(params) { key, value in
            guard let cap = caps[key], let n = value.intValue, n > cap else { return value }
            return .int(cap)
        }
    }

    /// The datasets with every split's first rows kept (`rows`, or `trainingRows` for a split a tune trains on).
    static func shrunkDatasets(_ datasets: JSONValue, training: Set<String>) -> JSONValue {
        replacing(datasets) { name, dataset in
            replacing(dataset) { key, splits in
                guard key == "splits" else { return splits }
                return replacing(splits) { split, spec in
                    let keep = training.contains("\(name):\(split)") ? trainingRows : rows
                    return replacing(spec) { field, value in
                        switch field {
                        case "rows":
                            guard let bounds = value.arrayValue?.compactMap(\.intValue), bounds.count == 2 else { return value }
                            return .array([.int(bounds[0]), .int(min(bounds[1], bounds[0] + keep))])
                        case "indices":
                            return .array(Array((value.arrayValue ?? []).prefix(keep)))
                        default:
                            return value
                        }
                    }
                }
            }
        }
    }
}

/// The quickstart cannot be turned into the suite's manifest.
struct SuiteManifestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
