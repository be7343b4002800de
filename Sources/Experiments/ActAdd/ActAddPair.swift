/// ActAdd's prompt pair as token sequences of equal length: p₊ and p₋ tokenized as the model reads them (with BOS
/// when the model adds one), the shorter right-padded with the pad token (ActAdd passes the space token). The
/// steering is then the per-position difference `c · (h(p₊) − h(p₋))` at the input of block L, added to the first
/// `length` positions of the user's prompt — not one mean vector (`ActAddSteering`).
///
/// With `leading`, both prompts begin with that token (and the user's prompt must too): where a model adds no BOS,
/// a neutral first token such as `<|endoftext|>` plays BOS's part, so the difference at position 0 is zero and the
/// injection starts on the first real token, as on GPT-2.
public struct ActAddPair: Sendable, Equatable {
    /// Why a pair cannot steer.
    public enum Problem: Error, CustomStringConvertible, Sendable, Equatable {
        /// Both prompts tokenize to nothing (and no leading token was asked for).
        case empty(plus: String, minus: String)

        public var description: String {
            switch self {
            case let .empty(plus, minus):
                "the prompt pair \"\(plus)\" − \"\(minus)\" tokenizes to no tokens at all: give a non-empty prompt or a leading token"
            }
        }
    }

    public let plus: [Int]
    public let minus: [Int]
    /// Pad tokens appended to each (one of the two is 0).
    public let plusPadding: Int
    public let minusPadding: Int

    /// `plusTokens` and `minusTokens` as the tokenizer gives them (`plusText`/`minusText` only name them in errors).
    public init(plusText: String, plusTokens: [Int], minusText: String, minusTokens: [Int], pad: Int,
                leading: Int? = nil) throws {
        let p = (leading.map { [$0] } ?? []) + plusTokens, m = (leading.map { [$0] } ?? []) + minusTokens
        guard !(p.isEmpty && m.isEmpty) else { throw Problem.empty(plus: plusText, minus: minusText) }
        let length = max(p.count, m.count)
        plusPadding = length - p.count
        minusPadding = length - m.count
        plus = p + Array(repeating: pad, count: plusPadding)
        minus = m + Array(repeating: pad, count: minusPadding)
    }

    /// Positions the steering covers (both padded prompts' length).
    public var length: Int { plus.count }

    /// `coefficient · (h₊ − h₋)`, row-major `[length × width]`, from the two prompts' residuals at the input of the
    /// steered block (each `[length × width]`).
    public func steering(plus hPlus: [Float], minus hMinus: [Float], width: Int, coefficient: Float) -> [Float] {
        precondition(hPlus.count == length * width && hMinus.count == length * width,
                     "ActAddPair: residuals of \(hPlus.count) and \(hMinus.count) values for \(length) positions × \(width)")
        return zip(hPlus, hMinus).map { coefficient * ($0 - $1) }
    }
}
