/// Both orders' verdicts for one item and the preference they add up to (METHOD.md §6): a generation wins the
/// item only if the judge prefers it in both orders; anything else is a tie.
public struct ItemJudgement: Sendable, Hashable {
    /// The dataset item index.
    public var item: Int
    /// The verdict with A shown as continuation 1.
    public var ab: JudgeVerdict
    /// The verdict with B shown as continuation 1.
    public var ba: JudgeVerdict

    public init(item: Int, ab: JudgeVerdict, ba: JudgeVerdict) {
        self.item = item
        self.ab = ab
        self.ba = ba
    }

    /// The side preferred in both orders, nil for a tie.
    public var winner: JudgeSide? {
        let first = JudgeOrder.ab.preferredSide(ab), second = JudgeOrder.ba.preferredSide(ba)
        return first != nil && first == second ? first : nil
    }

    /// Preference for A: +1 A wins, −1 B wins, 0 tie.
    public var score: Int {
        switch winner {
        case .a: 1
        case .b: -1
        case nil: 0
        }
    }
}

/// The summary of a pairwise judgement of generation sets A and B: wins and ties, the Wilcoxon signed-rank test
/// of the per-item scores (±1, ties 0) against no preference, and Cohen's κ between the two orders' verdicts
/// (how consistently the judge picks the same generation whichever position it is shown in).
public struct PairwiseJudgement: Sendable {
    public var items: [ItemJudgement]

    public init(items: [ItemJudgement]) { self.items = items }

    public var count: Int { items.count }
    public var aWins: Int { items.filter { $0.winner == .a }.count }
    public var bWins: Int { items.filter { $0.winner == .b }.count }
    public var ties: Int { items.filter { $0.winner == nil }.count }

    /// Wilcoxon signed-rank test of the scores (zeros dropped); nil when every item is a tie.
    public var wilcoxon: WilcoxonSignedRankTest? {
        WilcoxonSignedRankTest(differences: items.map { Double($0.score) })
    }

    /// Cohen's κ between the side preferred with A first and the side preferred with B first (categories A, B,
    /// undecided); nil when undefined (no items, or both orders always gave the same single answer).
    public var orderKappa: CohensKappa? {
        CohensKappa(rater1: items.map { JudgeOrder.ab.preferredSide($0.ab)?.rawValue ?? "-" },
                    rater2: items.map { JudgeOrder.ba.preferredSide($0.ba)?.rawValue ?? "-" })
    }

    /// Cohen's κ between two judges of the same pair of generation sets, over the items both judged, on the
    /// per-item outcome (A wins / B wins / tie). Nil when they share no item or κ is undefined.
    public static func kappa(between first: [ItemJudgement], and second: [ItemJudgement]) -> CohensKappa? {
        let other = Dictionary(second.map { ($0.item, $0.score) }, uniquingKeysWith: { a, _ in a })
        let shared = first.filter { other[$0.item] != nil }
        return CohensKappa(rater1: shared.map(\.score), rater2: shared.map { other[$0.item]! })
    }
}
