/// CAST's threshold chosen on a validation split: every threshold of a grid applied to prompts labelled "should
/// steer" / "should not steer", scored by F1 (of "should steer" as the positive class) or accuracy of the
/// condition's decisions; the best score wins, ties to the threshold listed first. The table of every threshold's
/// score is kept with the choice, and the chosen threshold is then applied, unchanged, to a held-out split.
public struct ThresholdSearch: Sendable, Equatable {
    /// What a threshold is scored by.
    public enum Metric: String, Sendable, CaseIterable {
        case f1, accuracy
    }

    /// The condition's decisions against the labels.
    public struct Confusion: Sendable, Equatable {
        public var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

        public init(fired: [Bool], labels: [Bool]) {
            for (f, l) in zip(fired, labels) {
                switch (f, l) {
                case (true, true): truePositives += 1
                case (true, false): falsePositives += 1
                case (false, false): trueNegatives += 1
                case (false, true): falseNegatives += 1
                }
            }
        }

        public var accuracy: Double {
            let n = truePositives + falsePositives + trueNegatives + falseNegatives
            return n == 0 ? 0 : Double(truePositives + trueNegatives) / Double(n)
        }

        /// 2·TP / (2·TP + FP + FN); 0 when there is no positive at all (in labels or decisions).
        public var f1: Double {
            let d = 2 * truePositives + falsePositives + falseNegatives
            return d == 0 ? 0 : Double(2 * truePositives) / Double(d)
        }

        public func score(_ metric: Metric) -> Double { metric == .f1 ? f1 : accuracy }
    }

    /// One threshold's validation result.
    public struct Row: Sendable, Equatable {
        public var threshold: Double
        public var confusion: Confusion
        public var score: Double
    }

    public let metric: Metric
    public let rows: [Row]
    public let chosen: Row

    /// The search over `thresholds` (non-empty, finite) for prompts with these similarities and labels.
    public init(similarities: [Double], labels: [Bool], thresholds: [Double], comparator: SteeringCondition.Comparator,
                metric: Metric) throws {
        guard !thresholds.isEmpty else { throw SteeringCondition.Problem(description: "the threshold grid is empty") }
        if let bad = thresholds.first(where: { !$0.isFinite }) {
            throw SteeringCondition.Problem(description: "the threshold grid holds \(bad), not a finite number")
        }
        guard similarities.count == labels.count, !labels.isEmpty else {
            throw SteeringCondition.Problem(description: "the validation split has \(labels.count) labelled prompts for \(similarities.count) similarities")
        }
        self.metric = metric
        rows = thresholds.map { t in
            let c = Confusion(fired: similarities.map { comparator.passes($0, t) }, labels: labels)
            return Row(threshold: t, confusion: c, score: c.score(metric))
        }
        var best = rows[0]
        for row in rows.dropFirst() where row.score > best.score { best = row }
        chosen = best
    }

    /// The rule, for reports.
    public var rule: String { "highest validation \(metric.rawValue) of \(rows.count) thresholds; ties to the first listed" }
}
