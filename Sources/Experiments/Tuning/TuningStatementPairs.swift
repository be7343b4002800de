/// Pairs true and false statements for balanced tuning batches: the k-th true statement (in the given order)
/// with the k-th false one. The paper's split (`FactsTuningSplit.trainingPairs`) is already in this form; any other
/// row selection is paired in selection order, and the statements of the more numerous label beyond the shorter
/// list's length are left out (`unpaired` counts them).
public struct TuningStatementPairs: Sendable {
    public var pairs: [(true: TrueFalseStatement, false: TrueFalseStatement)]
    /// Statements left without a partner.
    public var unpaired: Int

    public init(_ statements: [TrueFalseStatement]) {
        let trues = statements.filter(\.isTrue), falses = statements.filter { !$0.isTrue }
        pairs = zip(trues, falses).map { ($0, $1) }
        unpaired = statements.count - 2 * pairs.count
    }

    public init(pairs: [(true: TrueFalseStatement, false: TrueFalseStatement)]) {
        self.pairs = pairs
        unpaired = 0
    }
}
