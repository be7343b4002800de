/// Suggestions for misspelt names: the closest candidate by edit distance, if it is close enough to be a typo.
public enum NearMiss {
    /// Levenshtein distance between two strings (insert, delete, substitute one character each cost 1).
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased()), y = Array(b.lowercased())
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var row = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            row[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &row)
        }
        return previous[y.count]
    }

    /// The candidate nearest to `name` when within a third of its length (at least 1, at most 3 edits), or one
    /// that differs only by case and `-`/`_`, or one that is a prefix of the other (`val` / `valid`).
    public static func closest(to name: String, in candidates: [String]) -> String? {
        guard name.count <= 200 else { return nil }
        func squash(_ s: String) -> String { s.lowercased().filter { $0 != "_" && $0 != "-" } }
        if let same = candidates.first(where: { squash($0) == squash(name) }) { return same }
        let lowered = name.lowercased()
        if lowered.count >= 3, let prefixed = candidates.first(where: {
            let c = $0.lowercased()
            return c.count >= 3 && (c.hasPrefix(lowered) || lowered.hasPrefix(c))
        }) {
            return prefixed
        }
        let limit = max(1, min(3, name.count / 3))
        var best: (String, Int)?
        for c in candidates {
            let d = distance(name, c)
            if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    /// "did you mean \"x\"?" for the closest candidate, nil if none is close.
    public static func suggestion(for name: String, in candidates: [String]) -> String? {
        closest(to: name, in: candidates).map { "did you mean \"\($0)\"?" }
    }
}
