/// One table of a report, already formatted: every cell is text (fixed number formats), columns flagged numeric
/// are right-aligned. `id` names its CSV file (`<id>.csv`) and its anchors; it must be unique in a document.
public struct ReportTable: Sendable, Equatable {
    public var id: String
    public var title: String
    public var columns: [String]
    /// Per column: right-align (numbers) or not; shorter than `columns` means the rest are text.
    public var numeric: [Bool]
    public var rows: [[String]]
    /// A sentence under the table (what the tests compare against, what "–" means).
    public var note: String?

    public init(id: String, title: String, columns: [String], numeric: [Bool] = [], rows: [[String]], note: String? = nil) {
        self.id = id
        self.title = title
        self.columns = columns
        self.numeric = numeric
        self.rows = rows
        self.note = note
    }

    /// Whether column `i` holds numbers.
    public func isNumeric(_ i: Int) -> Bool { i < numeric.count && numeric[i] }

    /// Row `r` padded or cut to the number of columns.
    public func row(_ r: Int) -> [String] {
        let row = rows[r]
        return columns.indices.map { $0 < row.count ? row[$0] : "" }
    }

    /// The value of `column` in the first row whose first cell is `key` (for tests and lookups).
    public func cell(row key: String, column: String) -> String? {
        guard let c = columns.firstIndex(of: column), let r = rows.firstIndex(where: { $0.first == key }) else { return nil }
        return row(r)[c]
    }
}

/// A plot of a report: a standalone SVG document written as `<id>.svg`, with a caption.
public struct ReportFigure: Sendable, Equatable {
    public var id: String
    public var caption: String
    public var svg: String

    public init(id: String, caption: String, svg: String) {
        self.id = id
        self.caption = caption
        self.svg = svg
    }

    public var fileName: String { id + ".svg" }
}

/// A titled part of a report: explanatory paragraphs, tables and figures, in that order.
public struct ReportSection: Sendable, Equatable {
    public var title: String
    public var paragraphs: [String]
    public var tables: [ReportTable]
    public var figures: [ReportFigure]

    public init(title: String, paragraphs: [String] = [], tables: [ReportTable] = [], figures: [ReportFigure] = []) {
        self.title = title
        self.paragraphs = paragraphs
        self.tables = tables
        self.figures = figures
    }
}

/// A whole report, independent of the output format: the renderers (`markdown()`, `latex()`, `html()`,
/// `csvFiles()`, `json()`) and `ReportWriter` turn it into files.
public struct ReportDocument: Sendable, Equatable {
    public var title: String
    /// Lines under the title (which run, which stages).
    public var preamble: [String]
    public var sections: [ReportSection]

    public init(title: String, preamble: [String] = [], sections: [ReportSection] = []) {
        self.title = title
        self.preamble = preamble
        self.sections = sections
    }

    public var tables: [ReportTable] { sections.flatMap(\.tables) }
    public var figures: [ReportFigure] { sections.flatMap(\.figures) }

    /// The table with this id.
    public func table(_ id: String) -> ReportTable? { tables.first { $0.id == id } }
    /// The figure with this id.
    public func figure(_ id: String) -> ReportFigure? { figures.first { $0.id == id } }
}
