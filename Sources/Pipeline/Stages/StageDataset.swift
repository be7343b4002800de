import Experiments
import Foundation
import ModelFormats

/// The contents of a manifest dataset, read with the parser its file calls for: true/false statements
/// (`statement,label` CSV), TruthfulQA (the paper's misconception subset), morally ambiguous questions,
/// instrumental-lying scenarios (the directory or one of its files), raw text (wikitext), CAA's A/B JSON files, or
/// the paper's stored outputs (a directory of its JSON/TXT result files). The kind is read from the file's name and header; a file
/// that matches none is an error naming it.
public enum StageDataset: Sendable {
    case statements([TrueFalseStatement])
    case truthfulQA([TruthfulQAItem])
    case morallyAmbiguous([String])
    /// Open-ended scenarios and A/B question blocks (either may be empty when one file was given).
    case instrumentalLying(openEnded: [String], ab: [String])
    case text(WikiTextTestSet)
    /// The non-empty lines of any other `.txt` file (ActAdd's prompts, one per line).
    case lines([String])
    case paperOutputs(URL)
    /// A CAA multiple-choice file: a behaviour's generate or A/B set, or the MMLU/TruthfulQA side-effect set.
    case behaviourItems([BehaviourItem])

    /// The instrumental-lying files a stage reads: the 21 open-ended role-play prompts and the 20 A/B blocks.
    static let instrumentalOpenEnded = "instrumental_lying_examples_list.txt", instrumentalAB = "instrumental_lying_prompts.txt"

    /// Reads `ref` and keeps the rows of `split` (nil = all rows). `files` reads the bytes (a stage checks them
    /// against its key); only a regular file or a directory is read.
    public static func load(_ ref: DatasetRef, split: DatasetSplit?, files reader: DatasetFiles = .unchecked) throws -> StageDataset {
        let url = ref.url
        let what = "dataset \(ref.name)"
        let kind = try InputFile.check(url, what: what, directoryAllowed: true, maxBytes: InputFile.Limit.dataset)
        let name = url.lastPathComponent.lowercased()
        let loaded: StageDataset
        func text(_ url: URL) throws -> String {
            guard let s = String(data: try reader.read(url, what), encoding: .utf8) else { throw StageInputError("\(url.path) is not UTF-8 text") }
            return s
        }
        if kind == .directory {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            if files.contains(Self.instrumentalOpenEnded) || files.contains(Self.instrumentalAB) {
                // The roles of `datasets/instrumental_lying.json`: open-ended prompts in the examples list, the A/B
                // question blocks in the prompts file.
                let list = url.appendingPathComponent(Self.instrumentalOpenEnded), blocks = url.appendingPathComponent(Self.instrumentalAB)
                loaded = .instrumentalLying(
                    openEnded: files.contains(Self.instrumentalOpenEnded)
                        ? try InstrumentalLyingScenarios.parseOpenEnded(try text(list), source: list.path) : [],
                    ab: files.contains(Self.instrumentalAB) ? InstrumentalLyingScenarios.parseABBlocks(try text(blocks)) : [])
                try reader.verifyDirectory(url, what)
            } else if files.contains(where: { $0.hasPrefix("untunedmodel_") || $0.hasSuffix("_gpt4facts.json") }) {
                loaded = .paperOutputs(url)
            } else {
                throw StageInputError("dataset \(ref.name): the directory \(url.path) is neither the instrumental-lying "
                    + "material (\(Self.instrumentalOpenEnded), \(Self.instrumentalAB)) nor the paper's stored outputs (…_gpt4facts.json)")
            }
        } else {
            let body = try text(url)
            let header = body.prefix { $0 != "\n" && $0 != "\r\n" }.trimmingCharacters(in: .whitespaces)
                .replacingOccurrences(of: "\u{FEFF}", with: "")
            if name.hasSuffix(".csv"), header.hasPrefix("statement,label") {
                loaded = .statements(try TrueFalseStatements.parse(csv: body, name: ref.name, source: url.path).statements)
            } else if name.hasSuffix(".csv"), header.contains("Question"), header.contains("Best Answer") {
                loaded = .truthfulQA(try TruthfulQAMisconceptions.parse(csv: body, source: url.path).items)
            } else if name.contains("morally_ambiguous") {
                loaded = .morallyAmbiguous(try MorallyAmbiguousQuestions.parse(body, source: url.path).questions)
            } else if name == Self.instrumentalOpenEnded {
                loaded = .instrumentalLying(openEnded: try InstrumentalLyingScenarios.parseOpenEnded(body, source: url.path), ab: [])
            } else if name == Self.instrumentalAB {
                loaded = .instrumentalLying(openEnded: [], ab: InstrumentalLyingScenarios.parseABBlocks(body))
            } else if name.hasSuffix(".json"), let keys = BehaviourItems.Keys.detect(body) {
                loaded = .behaviourItems(try BehaviourItems.parse(Data(body.utf8), name: ref.name, source: url.path, keys: keys).items)
            } else if name.hasSuffix(".raw") || ref.format == "raw" || ref.format == "txt" || name.contains("wiki") {
                loaded = .text(WikiTextTestSet(rawText: body))
            } else if name.hasSuffix(".txt") {
                loaded = .lines(body.split(whereSeparator: \.isNewline).map(String.init)
                    .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
            } else {
                throw StageInputError("dataset \(ref.name): cannot tell what \(url.lastPathComponent) holds: expected a "
                    + "`statement,label` CSV, TruthfulQA.csv, morally_ambiguous_qs.txt, the instrumental_lying directory, "
                    + "a .raw text file, a .txt file of lines, a CAA A/B JSON file or the paper's outputs directory; found header \"\(header.prefix(60))\"")
            }
        }
        guard let split else { return loaded }
        return try loaded.selecting(split, dataset: ref.name, files: reader)
    }

    /// Number of rows (prompts, statements, text rows).
    public var count: Int {
        switch self {
        case .statements(let s): s.count
        case .truthfulQA(let q): q.count
        case .morallyAmbiguous(let q): q.count
        case .instrumentalLying(let o, let ab): max(o.count, ab.count)
        case .text(let t): t.rows.count
        case .lines(let l): l.count
        case .paperOutputs: 0
        case .behaviourItems(let items): items.count
        }
    }

    /// The rows a split names.
    func selecting(_ split: DatasetSplit, dataset: String, files: DatasetFiles = .unchecked) throws -> StageDataset {
        func pick<T>(_ rows: [T]) throws -> [T] {
            try split.indices(count: rows.count, dataset: dataset, files: files).map { rows[$0] }
        }
        switch self {
        case .statements(let s): return .statements(try pick(s))
        case .truthfulQA(let q): return .truthfulQA(try pick(q))
        case .morallyAmbiguous(let q): return .morallyAmbiguous(try pick(q))
        case .instrumentalLying(let o, let ab): return .instrumentalLying(openEnded: try pick(o), ab: try pick(ab))
        case .text(let t): return .text(WikiTextTestSet(rawText: try pick(t.rows).joined(separator: "\n")))
        case .lines(let l): return .lines(try pick(l))
        case .behaviourItems(let items): return .behaviourItems(try pick(items))
        case .paperOutputs: throw StageInputError("dataset \(dataset): the paper's outputs directory has no rows to split")
        }
    }

}

/// How a stage reads the files of a dataset: checked against the digests its key was computed from
/// (`StageContext.datasetFiles`), or as they are (`unchecked`, for tools and tests outside a run).
public struct DatasetFiles {
    /// The bytes of a file (`what` names it in errors).
    public var read: (URL, String) throws -> Data
    /// Called once a directory's files have been read: checks it has not changed.
    public var verifyDirectory: (URL, String) throws -> Void

    public init(read: @escaping (URL, String) throws -> Data, verifyDirectory: @escaping (URL, String) throws -> Void) {
        self.read = read
        self.verifyDirectory = verifyDirectory
    }

    public static var unchecked: DatasetFiles {
        DatasetFiles(read: { try InputFile.read($0, what: $1, maxBytes: InputFile.Limit.dataset) }, verifyDirectory: { _, _ in })
    }
}

extension DatasetSplit {
    /// The row indices this split selects from a dataset of `count` rows, in order.
    public func indices(count: Int, dataset: String, files: DatasetFiles = .unchecked) throws -> [Int] {
        let chosen: [Int]
        switch selection {
        case .rows(let r):
            guard r.upperBound <= count else {
                throw StageInputError("dataset \(dataset), split \(name): rows \(r.lowerBound)..<\(r.upperBound) go beyond the dataset's \(count) rows")
            }
            chosen = Array(r)
        case .indices(let i): chosen = i
        case .file(let path, let url):
            let data = try files.read(url, "dataset \(dataset), split \(name): the index file")
            guard let text = String(data: data, encoding: .utf8) else {
                throw StageInputError("dataset \(dataset), split \(name): the index file \(path) is not UTF-8 text")
            }
            if let array = (try? JSONParser.parse(text))?.arrayValue, array.allSatisfy({ $0.intValue != nil }) {
                chosen = array.map { $0.intValue! }
            } else {
                chosen = try text.split(whereSeparator: \.isNewline).enumerated().compactMap { n, line in
                    let t = line.trimmingCharacters(in: .whitespaces)
                    if t.isEmpty { return nil }
                    guard let i = Int(t) else {
                        throw StageInputError("dataset \(dataset), split \(name): \(path) line \(n + 1): expected a row index, found \"\(t)\"")
                    }
                    return i
                }
            }
        }
        if let bad = chosen.first(where: { $0 < 0 || $0 >= count }) {
            throw StageInputError("dataset \(dataset), split \(name): row \(bad) is outside the dataset's \(count) rows")
        }
        return chosen
    }
}
