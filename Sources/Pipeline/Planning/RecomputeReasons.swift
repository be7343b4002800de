/// Why a stage is computed although its id was stored under another key: the differences between the key material
/// it was stored under and the new one (`StageKey.material`), as `run --dry-run` prints them — "params changed:
/// window 1024 → 512", "input changed: vector ← honesty_vec", "model file changed", "dataset changed: facts:train",
/// "stage code version 1 → 2", "engine version 1 → 2".
public enum RecomputeReasons {
    public static func between(_ earlier: String, _ now: String, spec: StageSpec) -> [String] {
        guard let old = try? JSONParser.parse(earlier), let new = try? JSONParser.parse(now) else { return [] }
        var reasons: [String] = []
        func text(_ v: JSONValue?) -> String { v.map { CanonicalJSON.encode($0) } ?? "(absent)" }

        let oldFormat = old["format"]?.intValue ?? 1, newFormat = new["format"]?.intValue ?? 1
        if oldFormat != newFormat { reasons.append("key format \(oldFormat) → \(newFormat)") }
        if old["kind"] != new["kind"] { reasons.append("kind \(text(old["kind"])) → \(text(new["kind"]))") }

        let params = Set((old["params"]?.objectValue ?? []).map(\.key) + (new["params"]?.objectValue ?? []).map(\.key)).sorted()
        let changed = params.filter { old["params"]?[$0] != new["params"]?[$0] }
        if !changed.isEmpty {
            reasons.append("params changed: " + changed.map { "\($0) \(text(old["params"]?[$0])) → \(text(new["params"]?[$0]))" }
                .joined(separator: ", "))
        }

        let slots = Set((old["inputs"]?.objectValue ?? []).map(\.key) + (new["inputs"]?.objectValue ?? []).map(\.key)).sorted()
        for slot in slots where old["inputs"]?[slot] != new["inputs"]?[slot] {
            let ids = spec.inputs.first { $0.slot == slot }?.stages ?? []
            reasons.append("input changed: \(slot)" + (ids.isEmpty ? "" : " ← " + ids.joined(separator: ", ")))
        }

        if old["model"]?["sha256"] != new["model"]?["sha256"] { reasons.append("model file changed") }
        if old["model"]?["template"] != new["model"]?["template"] { reasons.append("chat template changed") }
        if old["model"]?["weights"] != new["model"]?["weights"] {
            reasons.append("weights \(old["model"]?["weights"]?.stringValue ?? "fp32") → \(new["model"]?["weights"]?.stringValue ?? "fp32")")
        }

        let uses = Set((old["datasets"]?.objectValue ?? []).map(\.key) + (new["datasets"]?.objectValue ?? []).map(\.key)).sorted()
        for use in uses where old["datasets"]?[use] != new["datasets"]?[use] {
            switch (old["datasets"]?[use], new["datasets"]?[use]) {
            case (nil, _): reasons.append("dataset added: \(use)")
            case (_, nil): reasons.append("dataset no longer read: \(use)")
            case (let a?, let b?) where a["sha256"] != b["sha256"]: reasons.append("dataset changed: \(use)")
            default: reasons.append("split changed: \(use)")
            }
        }
        if old["files"] != new["files"] { reasons.append("other model file changed (\(text(new["files"])))") }

        let oldCode = old["code"]?.intValue ?? 1, newCode = new["code"]?.intValue ?? 1
        if oldCode != newCode { reasons.append("stage code version \(oldCode) → \(newCode)") }
        if old["engine"] != new["engine"] { reasons.append("engine version \(text(old["engine"])) → \(text(new["engine"]))") }
        return reasons
    }
}
