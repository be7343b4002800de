import Foundation

/// A stage's cache key: the SHA-256 of the canonical JSON of everything that determines its result — kind and the
/// version of its code, resolved parameters, the keys of its inputs, the model's sha256 (and template override, and
/// native weights), the sha256 of each dataset it reads (with the split), and the engine's numeric version. Same
/// key → the stored result is reused.
public struct StageKey: Sendable, Hashable, CustomStringConvertible {
    /// 64 lowercase hex digits.
    public var hex: String
    /// The canonical JSON that was hashed (stored with the stage, so a key can be explained).
    public var material: String

    /// Version of the key material's layout; bump it when the material changes meaning.
    public static let formatVersion = 1

    /// - Parameter files: other files the result depends on (a judge model), by role → sha256; in the material only
    ///   when present, so stages without any keep their keys.
    /// - Parameter nativeWeights: the model's weights are read in their file encoding (`WeightsPolicy.native`,
    ///   resolved); in the material only then, so fp32 results keep their keys.
    /// - Parameter codeVersion: the version of the kind's code (`StageDeclaration.version`); in the material as
    ///   `"code"` from version 2 on, so results of every kind's first version keep their keys.
    public init(kind: StageKind, codeVersion: Int = 1, params: StageParams, inputKeys: [StageInput], modelSHA256: String,
                modelTemplate: String?, datasets: [(use: DatasetUse, sha256: String, split: JSONValue?)],
                files: [String: String] = [:], nativeWeights: Bool = false, engineVersion: Int) {
        var model: [JSONMember] = [JSONMember(key: "sha256", value: .string(modelSHA256)),
                                   JSONMember(key: "template", value: modelTemplate.map(JSONValue.string) ?? .null)]
        if nativeWeights { model.append(JSONMember(key: "weights", value: .string("native"))) }
        var members: [JSONMember] = [
            JSONMember(key: "format", value: .int(Self.formatVersion)),
            JSONMember(key: "kind", value: .string(kind.rawValue)),
            JSONMember(key: "params", value: params.json),
            JSONMember(key: "inputs", value: .object(inputKeys.map {
                JSONMember(key: $0.slot, value: .array($0.stages.map(JSONValue.string)))
            })),
            JSONMember(key: "model", value: .object(model)),
            JSONMember(key: "datasets", value: .object(datasets.map {
                JSONMember(key: $0.use.description, value: .object(["sha256": .string($0.sha256), "split": $0.split ?? .null]))
            })),
            JSONMember(key: "engine", value: .int(engineVersion)),
        ]
        if codeVersion != 1 { members.append(JSONMember(key: "code", value: .int(codeVersion))) }
        if !files.isEmpty {
            members.append(JSONMember(key: "files", value: .object(files.sorted { $0.key < $1.key }.map {
                JSONMember(key: $0.key, value: .string($0.value))
            })))
        }
        material = CanonicalJSON.encode(.object(members))
        hex = Hashing.sha256Hex(material)
    }

    public var description: String { hex }
    /// The first 12 hex digits, for display.
    public var short: String { String(hex.prefix(12)) }
}

extension DatasetSplit.Selection {
    /// The selection as JSON for the cache key; a split file contributes its sha256 via `fileDigest`.
    func keyJSON(fileDigest: (URL) throws -> String) rethrows -> JSONValue {
        switch self {
        case .rows(let r): return .object(["rows": .array([.int(r.lowerBound), .int(r.upperBound)])])
        case .indices(let i): return .object(["indices": .array(i.map(JSONValue.int))])
        case .file(_, let url): return .object(["file_sha256": .string(try fileDigest(url))])
        }
    }
}
