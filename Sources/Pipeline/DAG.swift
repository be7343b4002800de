/// The stage dependency graph of a manifest (an edge runs from each input stage to the stage that consumes it).
public struct DAG: Sendable, Equatable {
    /// Stage ids in a stable topological order: each stage after its inputs, ties kept in manifest order.
    public let order: [String]
    private let inputs: [String: [String]]

    /// Builds the graph; inputs naming unknown stages are ignored, and stages caught in a cycle come last in manifest order.
    public init(stages: [StageSpec]) {
        var ids: [String] = []
        var inputs: [String: [String]] = [:]
        for stage in stages where inputs[stage.id] == nil {
            ids.append(stage.id)
            inputs[stage.id] = Array(Set(stage.inputs.values)).sorted()
        }
        let known = Set(ids)
        for id in ids { inputs[id] = inputs[id]!.filter { known.contains($0) && $0 != id } }
        var placed = Set<String>()
        var order: [String] = []
        var progress = true
        while progress {
            progress = false
            for id in ids where !placed.contains(id) && inputs[id]!.allSatisfy(placed.contains) {
                placed.insert(id)
                order.append(id)
                progress = true
                break
            }
        }
        order += ids.filter { !placed.contains($0) }
        self.order = order
        self.inputs = inputs
    }

    /// The stages `id` reads from directly, sorted.
    public func dependencies(of id: String) -> [String] { inputs[id] ?? [] }

    /// Every stage that reads from `id` directly or indirectly (what `--force` must rerun with it), in topological order, excluding `id`.
    public func dependants(of id: String) -> [String] {
        var affected: Set<String> = [id]
        for stage in order where inputs[stage]!.contains(where: affected.contains) {
            affected.insert(stage)
        }
        // One pass in topological order suffices for acyclic graphs; repeat for cyclic leftovers.
        var changed = true
        while changed {
            changed = false
            for stage in order where !affected.contains(stage) && inputs[stage]!.contains(where: affected.contains) {
                affected.insert(stage)
                changed = true
            }
        }
        return order.filter { $0 != id && affected.contains($0) }
    }
}
