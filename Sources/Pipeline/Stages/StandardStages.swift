/// The runners of every stage kind reptune ships, as `reptune run` uses them. Each kind's runner lives in its own
/// file in this folder (`CollectActivationsStage.swift`, …).
extension StageRegistry {
    public static var standard: StageRegistry {
        var r = StageRegistry()
        r.register(.collectActivations, .collectActivations)
        r.register(.vectors, .vectors)
        r.register(.steeringSweep, .steeringSweep)
        r.register(.evaluate, .evaluate)
        r.register(.perplexity, .perplexity)
        r.register(.report, .report)
        r.register(.judge, .judge)
        r.register(.tune, .tune)
        return r
    }
}
