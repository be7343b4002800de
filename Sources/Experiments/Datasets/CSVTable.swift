import Foundation

/// An RFC 4180 CSV file: a header row and records (quoted fields may hold commas, doubled quotes and newlines).
public struct CSVTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    /// Parses `text`; `source` names the file in errors, which give the line where the problem starts.
    public init(parsing text: String, source: String) throws {
        var records = [[String]]()
        var record = [String](), inQuotes = false, line = 1, recordLine = 1
        var chars = Array(text.unicodeScalars)[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }  // byte-order mark
        var fieldScalars = String.UnicodeScalarView()
        func endField() { record.append(String(fieldScalars)); fieldScalars = .init() }
        while let c = chars.first {
            chars = chars.dropFirst()
            if inQuotes {
                if c == "\"" {
                    if chars.first == "\"" { fieldScalars.append("\""); chars = chars.dropFirst() } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    fieldScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where fieldScalars.isEmpty: inQuotes = true
            case ",": endField()
            case "\r" where chars.first == "\n": continue
            case "\n":
                endField()
                records.append(record)
                record = []
                line += 1
                recordLine = line
            default: fieldScalars.append(c)
            }
        }
        if inQuotes { throw DatasetError("\(source):\(recordLine): a quoted field is not closed before the end of the file") }
        if !fieldScalars.isEmpty || !record.isEmpty { endField(); records.append(record) }
        guard let header = records.first else { throw DatasetError("\(source): the file is empty") }
        self.header = header
        rows = Array(records.dropFirst())
        for (i, r) in rows.enumerated() where r.count != header.count {
            throw DatasetError("\(source): record \(i + 1) has \(r.count) fields, the header \(header.count)")
        }
    }

    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DatasetError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
        try self.init(parsing: text, source: url.path)
    }

    /// The values of column `name`.
    public func column(_ name: String) throws -> [String] {
        guard let i = header.firstIndex(of: name) else {
            throw DatasetError("no column \"\(name)\" (columns: \(header.joined(separator: ", ")))")
        }
        return rows.map { $0[i] }
    }
}

/// A dataset file is missing, unreadable or not in the expected format.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ message: String) { description = message }
}
