/// Which layer to steer at, chosen on a validation split as CAA chose its layer from the per-layer sweep: the layer
/// where steering moves P(matching) the most, i.e. the highest mean over behaviours of
/// (mean P(matching) at the positive multipliers − mean at the negative ones). Ties and the rule come from
/// `ValidationSelection` (the lowest layer among equal effects).
public enum CAALayerChoice {
    /// One evaluated validation cell.
    public struct Observation: Sendable, Equatable {
        public var behaviour: String
        public var layer: Int
        public var multiplier: Double
        public var pMatching: Double

        public init(behaviour: String, layer: Int, multiplier: Double, pMatching: Double) {
            self.behaviour = behaviour
            self.layer = layer
            self.multiplier = multiplier
            self.pMatching = pMatching
        }
    }

    /// Each layer's steering effect as a candidate (its multiplier: the largest positive one seen); a layer without
    /// both a positive and a negative multiplier for some behaviour is left out.
    public static func candidates(_ observations: [CAALayerChoice.Observation]) -> [ValidationSelection.Candidate] {
        let byLayer = Dictionary(grouping: observations, by: \.layer)
        return byLayer.keys.sorted().compactMap { layer -> ValidationSelection.Candidate? in
            let cells = byLayer[layer]!
            var effects: [Double] = []
            for (_, b) in Dictionary(grouping: cells, by: \.behaviour) {
                let up = b.filter { $0.multiplier > 0 }.map(\.pMatching), down = b.filter { $0.multiplier < 0 }.map(\.pMatching)
                guard !up.isEmpty, !down.isEmpty else { return nil }
                effects.append(up.reduce(0, +) / Double(up.count) - down.reduce(0, +) / Double(down.count))
            }
            guard !effects.isEmpty, let top = cells.map(\.multiplier).max() else { return nil }
            return .init(layer: layer, multiplier: top, score: effects.reduce(0, +) / Double(effects.count))
        }
    }

    /// The chosen layer's candidate and the rule, or nil when no layer has both signs.
    public static func choose(_ observations: [CAALayerChoice.Observation]) -> ValidationSelection? {
        ValidationSelection(candidates(observations), goal: .maximise)
    }
}
