/// Nearest-name suggestions by Levenshtein distance.
enum Suggestion {
    /// The candidate closest to `word` within distance 2 (first wins on ties), or nil.
    static func nearest(to word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates where c != word {
            let d = distance(word, c)
            if d <= 2, d < (best?.1 ?? 3) { best = (c, d) }
        }
        return best?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        if abs(a.count - b.count) > 2 { return 3 }
        var previous = Array(0...b.count)
        var row = previous
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&row, &previous)
        }
        return previous[b.count]
    }
}
