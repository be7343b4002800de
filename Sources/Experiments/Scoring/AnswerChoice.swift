/// What a scorer read from a generated answer: option A (for true/false prompts: "True"), option B ("False"),
/// or nothing it could parse. Raw values are the paper's codes (1, −1, 0).
public enum AnswerChoice: Int, Sendable, Hashable, Codable, CustomStringConvertible {
    case a = 1
    case b = -1
    case unparseable = 0

    public var description: String {
        switch self {
        case .a: "A"
        case .b: "B"
        case .unparseable: "unparseable"
        }
    }

    /// The other lettered option (unparseable stays unparseable).
    public var opposite: AnswerChoice {
        switch self {
        case .a: .b
        case .b: .a
        case .unparseable: .unparseable
        }
    }
}
