import ModelFormats

/// The text renderers of a `ReportDocument`. All are pure functions of the document: equal documents give
/// byte-identical files.
extension ReportDocument {
    /// `report.md`: headings, GitHub-style pipe tables, and the figures as image links to their SVG files.
    public func markdown() -> String {
        var out = "# \(title)\n\n"
        for line in preamble { out += line + "\n\n" }
        for section in sections {
            out += "## \(section.title)\n\n"
            for p in section.paragraphs { out += p + "\n\n" }
            for t in section.tables {
                out += "### \(t.title)\n\n"
                func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
                out += "| " + t.columns.map(cell).joined(separator: " | ") + " |\n"
                out += "|" + t.columns.indices.map { t.isNumeric($0) ? "---:|" : "---|" }.joined() + "\n"
                for r in t.rows.indices { out += "| " + t.row(r).map(cell).joined(separator: " | ") + " |\n" }
                out += "\n"
                if let note = t.note { out += "_\(note)_\n\n" }
            }
            for f in section.figures { out += "![\(f.caption)](\(f.fileName))\n\n" }
        }
        return out
    }

    /// The CSV files, one per table: (`<id>.csv`, RFC 4180 text with a header row), in document order.
    public func csvFiles() -> [(name: String, text: String)] {
        tables.map { t in
            func field(_ s: String) -> String {
                s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
            }
            let lines = [t.columns] + t.rows.indices.map { t.row($0) }
            return (t.id + ".csv", lines.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n")
        }
    }

    /// `report.tex`: a standalone LaTeX article (standard packages only) with one `tabular` per table, tables of more
    /// than 7 columns scaled to the text width (figures are listed by file name: convert the SVGs to PDF to include
    /// them).
    public func latex() -> String {
        var out = "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n\\usepackage{graphicx}\n"
        out += "\\begin{document}\n"
        out += "\\section*{\(Self.tex(title))}\n"
        for line in preamble { out += Self.tex(line) + "\n\n" }
        for section in sections {
            out += "\\subsection*{\(Self.tex(section.title))}\n"
            for p in section.paragraphs { out += Self.tex(p) + "\n\n" }
            for t in section.tables {
                out += "\\begin{table}[h]\n\\centering\n\\textbf{\(Self.tex(t.title))}\\par\\smallskip\n"
                // Wide tables (the conditions table has 15 columns) are scaled to the text width.
                let wide = t.columns.count > 7
                if wide { out += "\\resizebox{\\textwidth}{!}{%\n" }
                out += "\\begin{tabular}{" + t.columns.indices.map { t.isNumeric($0) ? "r" : "l" }.joined() + "}\n\\hline\n"
                out += t.columns.map(Self.tex).joined(separator: " & ") + " \\\\\n\\hline\n"
                for r in t.rows.indices { out += t.row(r).map(Self.tex).joined(separator: " & ") + " \\\\\n" }
                out += "\\hline\n\\end{tabular}" + (wide ? "}" : "") + "\n"
                if let note = t.note { out += "\n\\smallskip\\footnotesize \(Self.tex(note))\n" }
                out += "\\end{table}\n"
            }
            for f in section.figures { out += "Figure \\texttt{\(Self.tex(f.fileName))}: \(Self.tex(f.caption))\n\n" }
        }
        return out + "\\end{document}\n"
    }

    /// `index.html`: a self-contained page (inline style) with every table and the SVG figures as images; with
    /// `linkCSV` each table links its CSV file (written beside it).
    public func html(linkCSV: Bool = false) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>\(Self.html(title))</title>\n"
        out += "<style>body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        out += "table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px}"
        out += "td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f2f2f2}"
        out += "figure{margin:1em 0}figcaption{font-size:90%;color:#555}.note{font-size:90%;color:#555}</style>\n"
        out += "</head>\n<body>\n<h1>\(Self.html(title))</h1>\n"
        for line in preamble { out += "<p>\(Self.html(line))</p>\n" }
        for section in sections {
            out += "<h2>\(Self.html(section.title))</h2>\n"
            for p in section.paragraphs { out += "<p>\(Self.html(p))</p>\n" }
            for t in section.tables {
                out += "<h3 id=\"\(Self.html(t.id))\">\(Self.html(t.title))</h3>\n<table>\n<thead><tr>"
                out += t.columns.map { "<th>\(Self.html($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
                for r in t.rows.indices {
                    out += "<tr>" + t.row(r).enumerated().map { i, v in
                        t.isNumeric(i) ? "<td class=\"num\">\(Self.html(v))</td>" : "<td>\(Self.html(v))</td>"
                    }.joined() + "</tr>\n"
                }
                out += "</tbody>\n</table>\n"
                if let note = t.note { out += "<p class=\"note\">\(Self.html(note))</p>\n" }
                if linkCSV { out += "<p class=\"note\"><a href=\"\(Self.html(t.id)).csv\">\(Self.html(t.id)).csv</a></p>\n" }
            }
            for f in section.figures {
                out += "<figure><a href=\"\(Self.html(f.fileName))\"><img src=\"\(Self.html(f.fileName))\" alt=\"\(Self.html(f.caption))\"></a>"
                out += "<figcaption>\(Self.html(f.caption))</figcaption></figure>\n"
            }
        }
        return out + "</body>\n</html>\n"
    }

    /// `report.json`: the title, preamble and every table (columns and rows as strings), figures by file name.
    public func json() -> String {
        func s(_ x: String) -> String { Self.jsonString(x) }
        func list(_ xs: [String]) -> String { "[" + xs.map(s).joined(separator: ",") + "]" }
        var out = "{\n  \"title\": \(s(title)),\n  \"preamble\": \(list(preamble)),\n  \"tables\": ["
        out += tables.map { t in
            "\n    {\"id\": \(s(t.id)), \"title\": \(s(t.title)), \"columns\": \(list(t.columns)), \"rows\": ["
                + t.rows.indices.map { "\n      " + list(t.row($0)) }.joined(separator: ",") + (t.rows.isEmpty ? "]}" : "\n    ]}")
        }.joined(separator: ",")
        out += (tables.isEmpty ? "],\n" : "\n  ],\n") + "  \"figures\": \(list(figures.map(\.fileName)))\n}\n"
        return out
    }

    /// Escapes LaTeX's special characters and spells the non-ASCII symbols the report itself uses (×, –, −, Δ, …)
    /// as LaTeX commands, so that pdflatex needs no extra packages.
    static func tex(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "{", "}", "$", "&", "#", "_", "%": out += "\\\(ch)"
            case "^": out += "\\textasciicircum{}"
            case "~": out += "\\textasciitilde{}"
            case "\n": out += " "
            case "×": out += "$\\times$"
            case "–": out += "--"
            case "—": out += "---"
            case "−": out += "$-$"
            case "Δ": out += "$\\Delta$"
            case "κ": out += "$\\kappa$"
            case "…": out += "\\ldots{}"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Escapes text for HTML content and attribute values.
    static func html(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String { JSONStringLiteral.quoted(s) }
}
