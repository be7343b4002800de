/// The dependency graph of a manifest's stages: a deterministic topological order (ties in manifest order),
/// and the ancestors/descendants used by `--only` and `--force`.
public struct StageGraph: Sendable {
    public let stages: [StageSpec]
    private let index: [String: Int]
    /// For each stage (by position), the positions of the stages reading it.
    private let readers: [[Int]]

    public init(_ stages: [StageSpec]) {
        self.stages = stages
        var index: [String: Int] = [:]
        for (i, s) in stages.enumerated() where index[s.id] == nil { index[s.id] = i }
        self.index = index
        var readers = [[Int]](repeating: [], count: stages.count)
        for (i, s) in stages.enumerated() {
            for dep in s.dependencies { if let d = index[dep] { readers[d].append(i) } }
        }
        self.readers = readers
    }

    public func stage(_ id: String) -> StageSpec? { index[id].map { stages[$0] } }

    /// Stages after all their dependencies, or a `PlanError` naming a cycle (the manifest validator already
    /// rejects cycles; this guards graphs built in code). Of the stages ready at each step, the earliest in the
    /// manifest comes first; linear in the graph's size (a heap of the ready stages' positions).
    public func topologicalOrder() throws(PlanError) -> [StageSpec] {
        var waitingOn = stages.map { Set($0.dependencies.compactMap { index[$0] }).count }
        var ready = PositionHeap()
        for i in stages.indices where waitingOn[i] == 0 { ready.push(i) }
        var order: [StageSpec] = []
        order.reserveCapacity(stages.count)
        while let next = ready.pop() {
            order.append(stages[next])
            for r in readers[next] {
                waitingOn[r] -= 1
                if waitingOn[r] == 0 { ready.push(r) }
            }
        }
        guard order.count == stages.count else {
            throw PlanError("stages form a cycle: \(cycle().joined(separator: " → "))")
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
            queue += index[id].map { readers[$0].map { stages[$0].id } } ?? []
        }
        return out
    }
}

/// A min-heap of stage positions: the ready stage written first in the manifest comes out first.
struct PositionHeap {
    private var items: [Int] = []

    mutating func push(_ x: Int) {
        items.append(x)
        var i = items.count - 1
        while i > 0, items[(i - 1) / 2] > items[i] {
            items.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l] < items[m] { m = l }
                if r < items.count, items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

/// A request the planner cannot satisfy (unknown `--only`/`--force` stage, a cycle, an unreadable input file).
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
