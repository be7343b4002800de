import Foundation

/// A factual claim with its truth label (facts_true_false and gpt4_facts: columns `statement,label`).
public struct TrueFalseStatement: Sendable, Equatable, Codable {
    public let text: String
    public let isTrue: Bool
    /// 0-based data-row index in the CSV (the pandas index).
    public let row: Int

    public init(text: String, isTrue: Bool, row: Int) {
        self.text = text
        self.isTrue = isTrue
        self.row = row
    }

    /// The lettered option an honest answer picks in the facts prompts (A = True, B = False).
    public var honestChoice: AnswerChoice { isTrue ? .a : .b }
}

/// A true/false statement set as loaded from its CSV, in file order.
public struct TrueFalseStatements: Sendable, Equatable {
    public let name: String
    public let statements: [TrueFalseStatement]

    public init(name: String, statements: [TrueFalseStatement]) {
        self.name = name
        self.statements = statements
    }

    /// Loads and verifies the descriptor's `data` CSV from the mirror.
    public static func load(_ descriptor: DatasetDescriptor, from mirror: DatasetMirror) throws -> TrueFalseStatements {
        let (text, path) = try mirror.verifiedText(role: "data", of: descriptor)
        return try parse(csv: text, name: descriptor.name, source: path)
    }

    /// Parses `statement,label` CSV text; labels must be 0 or 1.
    public static func parse(csv text: String, name: String, source: String) throws -> TrueFalseStatements {
        let table = try CSVTable(text: text, source: source)
        let statementColumn = try table.columnIndex("statement")
        let labelColumn = try table.columnIndex("label")
        var statements: [TrueFalseStatement] = []
        for (row, fields) in table.rows.enumerated() {
            let label = fields[labelColumn].trimmingCharacters(in: .whitespaces)
            guard label == "0" || label == "1" else {
                throw DatasetError.malformed(path: source, line: table.rowLines[row], expected: "label 0 or 1",
                                             found: "\"\(fields[labelColumn])\"")
            }
            statements.append(TrueFalseStatement(text: fields[statementColumn], isTrue: label == "1", row: row))
        }
        return TrueFalseStatements(name: name, statements: statements)
    }

    public var count: Int { statements.count }
    public var trueStatements: [TrueFalseStatement] { statements.filter(\.isTrue) }
    public var falseStatements: [TrueFalseStatement] { statements.filter { !$0.isTrue } }
}
