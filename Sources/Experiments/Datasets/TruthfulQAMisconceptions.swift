import Foundation

/// One TruthfulQA question with the two answers the paper's A/B test offers.
public struct TruthfulQAItem: Sendable, Equatable, Codable {
    public let question: String
    public let category: String
    /// The `Best Answer` column.
    public let correctAnswer: String
    /// The first of `Incorrect Answers` split on ";", whitespace-stripped.
    public let incorrectAnswer: String
    /// 0-based data-row index in TruthfulQA.csv.
    public let row: Int
}

/// The paper's misconception test set from TruthfulQA.csv: categories containing "Mis" plus Conspiracies,
/// Paranormal and Superstitions, in file order (205 rows), without the first 5 → 200 items.
public struct TruthfulQAMisconceptions: Sendable, Equatable {
    public static let extraCategories: Set<String> = ["Conspiracies", "Paranormal", "Superstitions"]
    public static let droppedLeadingItems = 5

    public let items: [TruthfulQAItem]

    public init(items: [TruthfulQAItem]) { self.items = items }

    public static func load(_ descriptor: DatasetDescriptor, from mirror: DatasetMirror) throws -> TruthfulQAMisconceptions {
        let (text, path) = try mirror.verifiedText(role: "data", of: descriptor)
        return try parse(csv: text, source: path)
    }

    /// Whether a category belongs to the misconception test.
    public static func isSelected(category: String) -> Bool {
        category.contains("Mis") || extraCategories.contains(category)
    }

    public static func parse(csv text: String, source: String) throws -> TruthfulQAMisconceptions {
        let table = try CSVTable(text: text, source: source)
        let category = try table.columnIndex("Category")
        let question = try table.columnIndex("Question")
        let best = try table.columnIndex("Best Answer")
        let incorrect = try table.columnIndex("Incorrect Answers")
        var selected: [TruthfulQAItem] = []
        for (row, fields) in table.rows.enumerated() where isSelected(category: fields[category]) {
            let wrong = fields[incorrect].split(separator: ";", omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            guard !wrong.isEmpty else {
                throw DatasetError.malformed(path: source, line: table.rowLines[row],
                                             expected: "at least one incorrect answer", found: "an empty \"Incorrect Answers\" field")
            }
            selected.append(TruthfulQAItem(question: fields[question], category: fields[category],
                                           correctAnswer: fields[best], incorrectAnswer: wrong, row: row))
        }
        return TruthfulQAMisconceptions(items: Array(selected.dropFirst(droppedLeadingItems)))
    }

    /// Which option holds the correct answer for prompt `index` (0-based): A when the index is even.
    public static func correctChoice(at index: Int) -> AnswerChoice { index % 2 == 0 ? .a : .b }

    /// The honest option of every prompt, in order.
    public var correctChoices: [AnswerChoice] { items.indices.map(Self.correctChoice(at:)) }
}
