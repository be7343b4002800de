/// The BPE merge loop shared by both tokenizer models: a table from an adjacent pair of token ids to the rank of
/// its merge and the id it merges into, and a merge of a word's symbols that always applies the lowest-ranked
/// pair present, leftmost first — the order of Hugging Face's `BPE` and llama.cpp. Runs in O(n log n) per word
/// with a binary heap over a linked list of symbols, so a very long word (a page of CJK text) cannot stall.
struct BPEMerger: Sendable {
    /// `left << 32 | right` → `rank << 32 | merged id`.
    private(set) var pairs: [UInt64: UInt64] = [:]

    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Adds a merge; an existing entry for the pair with a lower (better) rank is kept.
    mutating func add(left: Int32, right: Int32, rank: Int, merged: Int32) {
        let k = Self.key(left, right)
        let v = UInt64(UInt32(clamping: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
        if let old = pairs[k], old >> 32 <= v >> 32 { return }
        pairs[k] = v
    }

    var count: Int { pairs.count }

    /// The merge of a pair, if any.
    func merge(_ left: Int32, _ right: Int32) -> (rank: Int, merged: Int32)? {
        guard let v = pairs[Self.key(left, right)] else { return nil }
        return (Int(v >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: v)))
    }

    /// Merges `symbols` in place. Symbols < 0 (characters outside the vocabulary) never merge.
    func apply(_ symbols: inout [Int32]) {
        let n = symbols.count
        if n < 2 { return }
        if n == 2 {
            if symbols[0] >= 0, symbols[1] >= 0, let m = merge(symbols[0], symbols[1]) { symbols = [m.merged] }
            return
        }
        var next = [Int32](unsafeUninitializedCapacity: n) { b, c in
            for i in 0..<n { b[i] = Int32(i + 1) }
            c = n
        }
        var prev = [Int32](unsafeUninitializedCapacity: n) { b, c in
            for i in 0..<n { b[i] = Int32(i - 1) }
            c = n
        }
        var alive = [Bool](repeating: true, count: n)
        var heap = CandidateHeap()
        for i in 0..<(n - 1) { push(&heap, symbols, i, i + 1) }
        while let c = heap.pop() {
            let l = Int(c.left), r = Int(c.right)
            // Skip candidates made stale by an earlier merge.
            guard alive[l], alive[r], Int(next[l]) == r, symbols[l] == c.leftID, symbols[r] == c.rightID else { continue }
            symbols[l] = c.merged
            alive[r] = false
            let after = Int(next[r])
            next[l] = Int32(after)
            if after < n { prev[after] = Int32(l) }
            let before = Int(prev[l])
            if before >= 0 { push(&heap, symbols, before, l) }
            if after < n { push(&heap, symbols, l, after) }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i < n {
            out.append(symbols[i])
            i = Int(next[i])
        }
        symbols = out
    }

    private func push(_ heap: inout CandidateHeap, _ symbols: [Int32], _ l: Int, _ r: Int) {
        let a = symbols[l], b = symbols[r]
        guard a >= 0, b >= 0, let m = merge(a, b) else { return }
        heap.push(.init(order: UInt64(m.rank) << 32 | UInt64(l), left: Int32(l), right: Int32(r),
                        leftID: a, rightID: b, merged: m.merged))
    }

    /// A pair that may be merged, ordered by (rank, position of its left symbol).
    struct Candidate {
        var order: UInt64
        var left: Int32, right: Int32
        var leftID: Int32, rightID: Int32, merged: Int32
    }

    /// A binary min-heap of candidates.
    struct CandidateHeap {
        private var items: [Candidate] = []

        mutating func push(_ c: Candidate) {
            items.append(c)
            var i = items.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                if items[p].order <= items[i].order { break }
                items.swapAt(p, i)
                i = p
            }
        }

        mutating func pop() -> Candidate? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if items.isEmpty { return top }
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n, items[l].order < items[m].order { m = l }
                if r < n, items[r].order < items[m].order { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
            return top
        }
    }
}
