import Foundation

/// The paper's TruthfulQA misconception set (METHOD.md §1): categories containing "Mis" plus Conspiracies,
/// Paranormal and Superstitions (205 rows in file order), the first 5 dropped → 200 questions; correct answer =
/// Best Answer, wrong = the first Incorrect Answer; item i has the correct answer at A when i is even.
public struct TruthfulQASet: Sendable, Equatable {
    /// One two-choice question.
    public struct Item: Sendable, Equatable {
        public var question: String
        public var correct: String
        public var incorrect: String
        /// Whether the correct answer is choice A.
        public var correctIsA: Bool

        public var prompt: PromptSpec {
            correctIsA ? PaperPrompts.multipleChoice(question: question, a: correct, b: incorrect)
                : PaperPrompts.multipleChoice(question: question, a: incorrect, b: correct)
        }
    }

    public var items: [Item]

    public static let extraCategories: Set<String> = ["Conspiracies", "Paranormal", "Superstitions"]

    public init(csv: CSVTable, dropFirst: Int = 5) throws {
        let categories = try csv.column("Category"), questions = try csv.column("Question")
        let best = try csv.column("Best Answer"), incorrect = try csv.column("Incorrect Answers")
        let kept = categories.indices.filter { categories[$0].contains("Mis") || Self.extraCategories.contains(categories[$0]) }
        items = kept.dropFirst(dropFirst).enumerated().map { i, row in
            let wrong = incorrect[row].split(separator: ";", omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return Item(question: questions[row], correct: best[row], incorrect: wrong, correctIsA: i % 2 == 0)
        }
    }

    public init(contentsOf url: URL) throws { try self.init(csv: CSVTable(contentsOf: url)) }
}
