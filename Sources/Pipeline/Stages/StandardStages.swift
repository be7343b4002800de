/// The runners of every stage kind reptune ships, as `reptune run` uses them. Each kind's runner lives in its own
/// file in this folder (`CollectActivationsStage.swift`, …).
extension StageRegistry {
    public static var standard: StageRegistry {
        var r = StageRegistry()
        r.register(.tune, .tune)
        return r
    }
}
