/// A judge's answer for one ordering: continuation 1, continuation 2, or neither (a tie, or a reply that names
/// neither number). Raw values are the numbers stored in the `judge` stage's outputs.
public enum JudgeVerdict: Int, Sendable, Hashable, CaseIterable {
    case undecided = 0
    case first = 1
    case second = 2

    /// Reads a judge's text reply: the first "1" or "2" standing alone (not part of a longer number, such as
    /// "12" or "1.5"); `.undecided` when there is none.
    public init(reply: String) {
        let chars = Array(reply.unicodeScalars)
        func isDigit(_ i: Int) -> Bool { i >= 0 && i < chars.count && chars[i].properties.numericType != nil }
        func isSeparator(_ i: Int) -> Bool { i >= 0 && i < chars.count && (chars[i] == "." || chars[i] == ",") }
        for (i, c) in chars.enumerated() where c == "1" || c == "2" {
            // "12", "21", "1.5", "3,2" are other numbers; "1." at the end of a sentence is not.
            let joinedBefore = isDigit(i - 1) || (isSeparator(i - 1) && isDigit(i - 2))
            let joinedAfter = isDigit(i + 1) || (isSeparator(i + 1) && isDigit(i + 2))
            if !joinedBefore && !joinedAfter {
                self = c == "1" ? .first : .second
                return
            }
        }
        self = .undecided
    }

    /// The verdict from the probabilities of answering "1" and "2" (log-probabilities, natural log): the more
    /// probable one; `.undecided` only when they are exactly equal.
    public init(logProbabilityOfFirst l1: Double, second l2: Double) {
        self = l1 > l2 ? .first : (l2 > l1 ? .second : .undecided)
    }
}
