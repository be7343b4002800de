/// The dependency graph of a manifest's stages: a deterministic topological order (ties in manifest order),
/// and the ancestors/descendants used by `--only` and `--force`.
public struct StageGraph: Sendable {
    public let stages: [StageSpec]
    private let index: [String: Int]

    public init(_ stages: [StageSpec]) {
        self.stages = stages
        var index: [String: Int] = [:]
        for (i, s) in stages.enumerated() { index[s.id] = i }
        self.index = index
    }

    public func stage(_ id: String) -> StageSpec? { index[id].map { stages[$0] } }

    /// Stages after all their dependencies, or a `PlanError` naming a cycle (the manifest validator already
    /// rejects cycles; this guards graphs built in code).
    public func topologicalOrder() throws(PlanError) -> [StageSpec] {
        let remaining = stages.map { Set($0.dependencies.filter { index[$0] != nil }) }
        var done: Set<String> = []
        var order: [StageSpec] = []
        while order.count < stages.count {
            guard let next = stages.indices.first(where: { !done.contains(stages[$0].id) && remaining[$0].isSubset(of: done) }) else {
                throw PlanError("stages form a cycle: \(cycle().joined(separator: " → "))")
            }
            done.insert(stages[next].id)
            order.append(stages[next])
        }
        return order
    }

    /// One cycle among the stages (ids, first repeated at the end), or [] if there is none.
    public func cycle() -> [String] {
        var state: [String: Int] = [:]
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            state[id] = 1
            path.append(id)
            for dep in stage(id)?.dependencies ?? [] where index[dep] != nil {
                if state[dep] == 1, let start = path.firstIndex(of: dep) { return Array(path[start...]) + [dep] }
                if state[dep] == nil, let c = visit(dep) { return c }
            }
            path.removeLast()
            state[id] = 2
            return nil
        }
        for s in stages where state[s.id] == nil {
            if let c = visit(s.id) { return c }
        }
        return []
    }

    /// `ids` and every stage they read from, directly or not.
    public func withAncestors(_ ids: Set<String>) -> Set<String> {
        var out: Set<String> = []
        var queue = Array(ids)
        while let id = queue.popLast() {
            guard out.insert(id).inserted else { continue }
            queue += stage(id)?.dependencies ?? []
        }
        return out
    }

    /// `ids` and every stage reading from them, directly or not.
    public func withDescendants(_ ids: Set<String>) -> Set<String> {
        var out: Set<String> = []
        var queue = Array(ids)
        while let id = queue.popLast() {
            guard out.insert(id).inserted else { continue }
            queue += stages.filter { $0.dependencies.contains(id) }.map(\.id)
        }
        return out
    }
}

/// A request the planner cannot satisfy (unknown `--only`/`--force` stage, a cycle, an unreadable input file).
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
