import Engine
import Experiments

/// The `steer` parameter of the CAA steering stages (`caa_ab_sweep`, `caa_conditional`, `caa_open_ended`): several
/// vectors at once, each with its own blocks, positions and multiplier —
/// `[{"vector": "refusal", "layers": [13], "positions": "last", "multiplier": 2}, …]` — compiled to one `SteeringTerm`
/// (one intervention) per entry and block; where terms overlap their additions sum.
struct SteerEntry: Decodable, Sendable {
    var vector: String
    var layers: [Int]
    var positions: String
    var multiplier: Double

    /// The record's fields, as the manifest validator and the docs read them.
    static let fields: [ParamSpec] = [
        ParamSpec("vector", .string, .required, doc: "A behaviour of the `vectors` input (a `caa_vectors` cell's `behaviour`)."),
        ParamSpec("layers", StageCatalog.layerList, .required, model: .block, doc: "Blocks whose output it is added to."),
        ParamSpec("positions", .choice(SteeringTerm.Positions.allCases.map(\.rawValue)), .defaulted(.string("from_instruction_end")),
                  doc: "`from_instruction_end` (CAA's rule: the last token of `[/INST]` and on, generated tokens too) or `last` "
                       + "(the prompt's last token only: the answer-letter position of an A/B prompt). The question's own tokens "
                       + "are never steered."),
        ParamSpec("multiplier", StageCatalog.multiplier, .required, doc: "Multiplier of the (normalised) vector."),
    ]

    /// The parameter row: a non-empty list of entries.
    static func param(_ doc: String, presence: ParamPresence = .optional) -> ParamSpec {
        ParamSpec("steer", .list(.record(name: "steering term", fields: fields)), presence, doc: doc)
    }

    /// The terms of `entries` with their vectors from `vectors` (behaviour → block → vector); errors name the entry.
    static func terms(_ entries: [SteerEntry], vectors: [String: [Int: [Float]]], width: Int, stage: String) throws -> [SteeringTerm] {
        try entries.enumerated().flatMap { i, entry -> [SteeringTerm] in
            let path = "stage \(stage): params.steer[\(i)]"
            guard let byLayer = vectors[entry.vector] else {
                throw StageInputError("\(path).vector: the vectors input has no behaviour \"\(entry.vector)\" (it has \(vectors.keys.sorted().joined(separator: ", ")))")
            }
            return try entry.layers.map { layer in
                guard let v = byLayer[layer] else {
                    throw StageInputError("\(path).layers: the \(entry.vector) vectors have no block \(layer) (they have \(byLayer.keys.sorted()))")
                }
                guard v.count == width else {
                    throw StageInputError("\(path): the \(entry.vector) vector at block \(layer) has \(v.count) entries; the model's residual has \(width)")
                }
                return SteeringTerm(layer: layer, vector: v, multiplier: Float(entry.multiplier),
                                    positions: SteeringTerm.Positions(rawValue: entry.positions) ?? .fromInstructionEnd)
            }
        }
    }

    /// How the entries read in messages and outputs: `refusal@13×2 (last)`.
    static func label(_ entries: [SteerEntry]) -> String {
        entries.map { "\($0.vector)@\($0.layers.map(String.init).joined(separator: ","))×\(PythonNumber.format($0.multiplier))"
            + ($0.positions == "last" ? " (last)" : "") }.joined(separator: " + ")
    }

    /// The entries as stored with a cell's outputs.
    static func json(_ entries: [SteerEntry]) -> JSONValue {
        .array(entries.map { e in
            .object(["vector": .string(e.vector), "layers": .array(e.layers.map { .int($0) }), "positions": .string(e.positions),
                     "multiplier": .double(e.multiplier)])
        })
    }
}
