import Foundation

/// A parsed RFC 4180 CSV file: a header row and data rows of equal width, each remembering the line it started on.
///
/// Quoted fields may contain commas, doubled quotes (`""` → `"`) and line breaks; records end at LF or CRLF;
/// completely empty lines are skipped; a UTF-8 byte-order mark at the start is skipped. Field text is kept verbatim (no trimming, no type guessing).
public struct CSVTable: Sendable, Equatable {
    public let header: [String]
    public let rows: [[String]]
    /// 1-based line number on which each data row starts.
    public let rowLines: [Int]
    /// The file name used in error messages.
    public let source: String

    /// Parses CSV text. Every data row must have as many fields as the header.
    public init(text: String, source: String) throws {
        var records = try CSVRecordReader(text: text, source: source).readAll()
        guard !records.isEmpty else { throw CSVError(source: source, line: 1, message: "expected a header row, found an empty file") }
        let first = records.removeFirst()
        header = first.fields
        for record in records where record.fields.count != header.count {
            throw CSVError(source: source, line: record.line,
                           message: "expected \(header.count) fields (as in the header), found \(record.fields.count)")
        }
        rows = records.map(\.fields)
        rowLines = records.map(\.line)
        self.source = source
    }

    /// Reads and parses a UTF-8 CSV file.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CSVError(source: url.path, line: 0, message: "cannot read file (\(error.localizedDescription))")
        }
        try self.init(data: data, source: url.path)
    }

    /// Parses UTF-8 CSV bytes.
    public init(data: Data, source: String) throws {
        guard let text = String(data: data, encoding: .utf8) else {
            throw CSVError(source: source, line: 0, message: "expected UTF-8 text, found invalid byte sequences")
        }
        try self.init(text: text, source: source)
    }

    /// Index of the column with this header name.
    public func columnIndex(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw CSVError(source: source, line: 1,
                           message: "expected a column named \"\(name)\", found columns \(header.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return index
    }

    /// All values of one column, in row order.
    public func column(_ name: String) throws -> [String] {
        let index = try columnIndex(name)
        return rows.map { $0[index] }
    }
}

/// Malformed CSV: names the file, the 1-based line, what was expected and what was found.
public struct CSVError: Error, CustomStringConvertible, Sendable, Equatable {
    public let source: String
    public let line: Int
    public let message: String

    public init(source: String, line: Int, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    public var description: String { "\(source):\(line): \(message)" }
}

/// The record-level state machine behind `CSVTable`.
struct CSVRecordReader {
    struct Record { var fields: [String]; var line: Int }

    let scalars: [Unicode.Scalar]
    let source: String

    init(text: String, source: String) {
        var s = Array(text.unicodeScalars)
        if s.first == "\u{FEFF}" { s.removeFirst() }
        scalars = s
        self.source = source
    }

    func readAll() throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var i = 0
        var atFieldStart = true
        var fieldWasQuoted = false
        let n = scalars.count

        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            atFieldStart = true
            fieldWasQuoted = false
        }
        func endRecord() {
            let blank = fields.isEmpty && field.isEmpty && !fieldWasQuoted
            endField()
            // A completely empty line is not a record (as in pandas and Python's csv module).
            if !blank { records.append(Record(fields: fields, line: recordLine)) }
            fields = []
        }

        while i < n {
            let c = scalars[i]
            if atFieldStart && c == "\"" {
                // Quoted field: runs to the matching closing quote.
                let startLine = line
                i += 1
                var closed = false
                while i < n {
                    let q = scalars[i]
                    if q == "\"" {
                        if i + 1 < n && scalars[i + 1] == "\"" { field.append("\""); i += 2; continue }
                        closed = true; i += 1; break
                    }
                    if q == "\n" { line += 1 }
                    field.append(q)
                    i += 1
                }
                guard closed else {
                    throw CSVError(source: source, line: startLine,
                                   message: "quoted field starting here is never closed (expected a closing '\"' before the end of the file)")
                }
                atFieldStart = false
                fieldWasQuoted = true
                // After a closing quote only a separator or a line end may follow.
                if i < n {
                    let next = scalars[i]
                    let isLineEnd = next == "\n" || (next == "\r" && i + 1 < n && scalars[i + 1] == "\n") || (next == "\r" && i + 1 == n)
                    if next != "," && !isLineEnd {
                        throw CSVError(source: source, line: line,
                                       message: "expected ',' or end of line after a closing quote, found '\(Character(next))'")
                    }
                }
                continue
            }
            switch c {
            case ",":
                endField()
                i += 1
            case "\r" where i + 1 < n && scalars[i + 1] == "\n":
                endRecord(); i += 2; line += 1; recordLine = line
            case "\n":
                endRecord(); i += 1; line += 1; recordLine = line
            case "\"":
                throw CSVError(source: source, line: line,
                               message: "expected quotes only around a whole field, found '\"' inside an unquoted field")
            default:
                field.append(c)
                atFieldStart = false
                i += 1
            }
        }
        // Last record without a trailing newline.
        if !fields.isEmpty || !field.isEmpty || !atFieldStart || fieldWasQuoted {
            endRecord()
        }
        return records
    }
}
