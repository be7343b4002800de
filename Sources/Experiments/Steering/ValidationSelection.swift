/// Picks a steering condition (layer and multiplier) on a validation split, to be reported on a held-out split,
/// instead of the best cell of the test set. The rule is stated and recorded with the choice: the highest score
/// (or lowest, for a measure to minimise); among equal scores the smallest |multiplier|, then the lowest layer —
/// the gentlest intervention that does as well.
public struct ValidationSelection: Sendable, Equatable {
    /// One evaluated condition of the validation split.
    public struct Candidate: Sendable, Equatable, Codable {
        public var layer: Int
        public var multiplier: Double
        public var score: Double

        public init(layer: Int, multiplier: Double, score: Double) {
            self.layer = layer
            self.multiplier = multiplier
            self.score = score
        }
    }

    /// Whether a higher score is better.
    public enum Goal: String, Sendable, Equatable, Codable {
        case maximise, minimise
    }

    public let chosen: Candidate
    public let goal: Goal
    /// How many candidates were compared (non-finite scores are left out).
    public let compared: Int

    /// The choice among `candidates`, or nil when none has a finite score.
    public init?(_ candidates: [Candidate], goal: Goal) {
        let finite = candidates.filter(\.score.isFinite)
        func better(_ a: Candidate, _ b: Candidate) -> Bool {
            if a.score != b.score { return goal == .maximise ? a.score > b.score : a.score < b.score }
            if abs(a.multiplier) != abs(b.multiplier) { return abs(a.multiplier) < abs(b.multiplier) }
            if a.layer != b.layer { return a.layer < b.layer }
            return a.multiplier < b.multiplier
        }
        guard let best = finite.min(by: better) else { return nil }
        chosen = best
        self.goal = goal
        compared = finite.count
    }

    /// The rule, for reports.
    public var rule: String {
        "\(goal == .maximise ? "highest" : "lowest") validation score of \(compared) conditions; ties to the smallest |multiplier|, then the lowest layer"
    }
}
