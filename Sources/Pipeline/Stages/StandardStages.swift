/// Every stage kind reptune ships, one declaration per file in this folder. Adding a kind: its file, and one line
/// here (the order is the order of the docs).
extension StageDeclaration {
    public static let all: [StageDeclaration] = [
        .collectActivations,
        .vectors,
        .steeringSweep,
        .tune,
        .evaluate,
        .judge,
        .perplexity,
        .actAddTopic,
        .caaVectors,
        .caaABSweep,
        .caaOpenEnded,
        .caaConditional,
        .report,
    ]
}

extension StageRegistry {
    /// The declared runner of every kind, as `reptune run` uses them.
    public static var standard: StageRegistry {
        var r = StageRegistry()
        for declaration in StageDeclaration.all { r.register(declaration.kind, declaration.runner) }
        return r
    }
}
