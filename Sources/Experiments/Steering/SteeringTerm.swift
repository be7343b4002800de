import Engine

/// One vector added while steering: `multiplier · vector` at the output of block `layer`, at the positions its rule
/// picks in a CAA prompt `… [/INST] (`. A manifest's `steer` entry becomes one term per layer; several terms are
/// applied together as a list of interventions, so where they overlap their additions sum.
public struct SteeringTerm: Sendable, Equatable {
    /// Which positions of a prompt a term touches. The question's own tokens are never steered (CAA's rule), so a
    /// prompt's unsteered prefix can be shared by every condition.
    public enum Positions: String, Sendable, CaseIterable {
        /// The steering start (the last token of `[/INST]`, or of the chat template's assistant header) and on.
        case fromInstructionEnd = "from_instruction_end"
        /// The last prompt token only: the position whose next token is the answer letter.
        case last
    }

    public var layer: Int
    public var vector: [Float]
    public var multiplier: Float
    public var positions: Positions

    public init(layer: Int, vector: [Float], multiplier: Float, positions: Positions = .fromInstructionEnd) {
        self.layer = layer
        self.vector = vector
        self.multiplier = multiplier
        self.positions = positions
    }

    /// The intervention for a prompt of `length` tokens whose steering starts at `start`.
    public func intervention(start: Int, length: Int) -> Intervention {
        .steer(layer: layer, vector: vector, multiplier: multiplier,
               positions: positions == .last ? .positions([length - 1]) : .from(start))
    }
}
