import Foundation

/// The 20 morally ambiguous two-choice questions; each file line holds literal `\n` escapes that are decoded here.
/// A question reads `Question: …\n\nPick one of the following two choices:\n (A) X\n (B) Y\n\nAnswer:`.
public struct MorallyAmbiguousQuestions: Sendable, Equatable {
    public let questions: [String]

    public init(questions: [String]) { self.questions = questions }

    public static func load(_ descriptor: DatasetDescriptor, from mirror: DatasetMirror) throws -> MorallyAmbiguousQuestions {
        let (text, path) = try mirror.verifiedText(role: "data", of: descriptor)
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws -> MorallyAmbiguousQuestions {
        var questions: [String] = []
        for (index, line) in TextLines.split(text).enumerated() {
            let trimmed = line
            if trimmed.isEmpty { continue }
            let question = EscapedText.decode(trimmed)
            guard question.contains("\n (A) "), question.contains("\n (B) ") else {
                throw DatasetError.malformed(path: source, line: index + 1, expected: "a question with \"\\n (A) \" and \"\\n (B) \" options",
                                             found: "\"\(trimmed.prefix(60))…\"")
            }
            questions.append(question)
        }
        return MorallyAmbiguousQuestions(questions: questions)
    }
}

/// Decoding of the backslash escapes the paper's text files use (`\n`, `\t`, `\"`, `\'`, `\\`); other
/// backslashes are kept.
public enum EscapedText {
    public static func decode(_ text: String) -> String {
        var out = ""
        var escaping = false
        for ch in text {
            if escaping {
                switch ch {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\"": out.append("\"")
                case "'": out.append("'")
                case "\\": out.append("\\")
                default: out.append("\\"); out.append(ch)
                }
                escaping = false
            } else if ch == "\\" {
                escaping = true
            } else {
                out.append(ch)
            }
        }
        if escaping { out.append("\\") }
        return out
    }
}

/// Line splitting on Unicode scalars (a Swift `Character` would treat "\r\n" as one unit): splits on "\n" and
/// drops one "\r" before it.
public enum TextLines {
    public static func split(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                if current.last == "\r" { current.removeLast() }
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        lines.append(String(current))
        return lines
    }
}
