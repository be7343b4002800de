import Foundation

/// The WikiText-2 raw test split as mirrored: its 2,891 non-empty rows, one per CRLF-terminated line.
///
/// The paper's perplexity text is `"\n\n".join(rows)` over the Hugging Face rows. The mirror lacks the 1,467 empty
/// rows, so that string cannot be rebuilt exactly; `joined(rowEnding:)` joins the non-empty rows, each keeping
/// its line ending as stored (`.crlf`, the default) or with it turned into the Hugging Face row's `"\n"` (`.lf`).
public struct WikiTextTestSet: Sendable, Equatable {
    public enum RowEnding: String, Sendable, Codable { case crlf, lf }

    /// The file exactly as stored.
    public let rawText: String
    /// Each non-empty row including its "\r\n" (a final row without one is kept as is).
    public let rows: [String]

    public init(rawText: String) {
        self.rawText = rawText
        // Split on scalars: a Swift Character would treat "\r\n" as one unit.
        var rows: [String] = []
        var current = String.UnicodeScalarView()
        var previous: Unicode.Scalar?
        for scalar in rawText.unicodeScalars {
            current.append(scalar)
            if scalar == "\n" && previous == "\r" {
                if current.count > 2 { rows.append(String(current)) }
                current = String.UnicodeScalarView()
            }
            previous = scalar
        }
        if !current.isEmpty { rows.append(String(current)) }
        self.rows = rows
    }

    public static func load(_ descriptor: DatasetDescriptor, from mirror: DatasetMirror) throws -> WikiTextTestSet {
        let (text, _) = try mirror.verifiedText(role: "data", of: descriptor)
        return WikiTextTestSet(rawText: text)
    }

    /// `"\n\n".join(rows)` with the chosen row ending.
    public func joined(rowEnding: RowEnding = .crlf) -> String {
        switch rowEnding {
        case .crlf: rows.joined(separator: "\n\n")
        case .lf: rows.map { row in
            var scalars = row.unicodeScalars
            if row.unicodeScalars.suffix(2).elementsEqual(["\r", "\n"]) { scalars.removeLast(2); scalars.append("\n") }
            return String(scalars)
        }.joined(separator: "\n\n")
        }
    }
}
