import Foundation
import ModelFormats

/// The files a report can be written as.
public enum ReportFormat: String, Sendable, CaseIterable, Comparable {
    /// `report.md` (+ the SVG figures it links).
    case md
    /// One `<table>.csv` per table.
    case csv
    /// `report.tex` (LaTeX `tabular`s).
    case tex
    /// `index.html` (+ the SVG figures it shows).
    case html
    /// The SVG figures alone.
    case svg
    /// `report.json`: every table as JSON.
    case json

    public static func < (a: ReportFormat, b: ReportFormat) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Parses a format name; the error lists the valid ones.
    public static func parse(_ name: String) throws -> ReportFormat {
        guard let f = ReportFormat(rawValue: name) else {
            throw ReportError("unknown report format \"\(name)\": expected one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return f
    }
}

/// A report that cannot be assembled or written; the message names the file, stage or field and what was expected.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Writes a `ReportDocument` into a directory, each file atomically (temporary file + rename), so a reader never
/// sees a half-written report.
public enum ReportWriter {
    /// The file names `formats` produce for `document`, sorted.
    public static func fileNames(_ document: ReportDocument, formats: Set<ReportFormat>) -> [String] {
        files(document, formats: formats).map(\.name)
    }

    /// Writes the files of `formats` into `directory` (created if needed) and returns their URLs, sorted by name.
    @discardableResult
    public static func write(_ document: ReportDocument, formats: Set<ReportFormat>, to directory: URL) throws -> [URL] {
        var urls: [URL] = []
        for file in files(document, formats: formats) {
            let url = directory.appendingPathComponent(file.name)
            do {
                try AtomicFile.write(Data(file.text.utf8), to: url)
            } catch {
                throw ReportError("cannot write \(url.path): \(error)")
            }
            urls.append(url)
        }
        return urls
    }

    /// Name and content of every file, sorted by name (figures once even when several formats need them).
    public static func files(_ document: ReportDocument, formats: Set<ReportFormat>) -> [(name: String, text: String)] {
        var files: [String: String] = [:]
        if formats.contains(.md) { files["report.md"] = document.markdown() }
        if formats.contains(.tex) { files["report.tex"] = document.latex() }
        if formats.contains(.html) { files["index.html"] = document.html(linkCSV: formats.contains(.csv)) }
        if formats.contains(.json) { files["report.json"] = document.json() }
        if formats.contains(.csv) { for f in document.csvFiles() { files[f.name] = f.text } }
        if !formats.isDisjoint(with: [.md, .html, .svg]) { for f in document.figures { files[f.fileName] = f.svg } }
        return files.keys.sorted().map { ($0, files[$0]!) }
    }
}
