/// The generated section of docs/RESULTS.md: what each stage kind stores, from its declaration (`StageOutputs`,
/// `ProgressPolicy`, `version`). `ManifestDocsTests` compares the committed section byte for byte.
public enum StageOutputsDocs {
    public static let begin = "<!-- stage outputs: generated from the stage declarations (REPTUNE_WRITE_DOCS=1 swift test --filter ManifestDocsTests) -->"
    public static let end = "<!-- end of the generated stage outputs -->"

    /// The section, markers included.
    public static func markdown() -> String {
        var out = [begin, "## What each stage kind stores", ""]
        for d in StageDeclaration.all {
            out.append("### `\(d.kind.rawValue)` (code version \(d.version))")
            out.append("")
            out.append("| metric | unit | meaning |")
            out.append("|---|---|---|")
            for m in d.outputs.metrics { out.append("| `\(m.name)` | \(m.unit) | \(m.doc) |") }
            if !d.outputs.artifacts.isEmpty {
                out.append("")
                out.append("| artifact | file | content |")
                out.append("|---|---|---|")
                for a in d.outputs.artifacts { out.append("| `\(a.name)` | \(a.unit) | \(a.doc) |") }
            }
            out.append("")
            out.append(d.outputs.notes)
            out.append("")
            switch d.progress {
            case .shortCells:
                out.append("Progress: cells are short; after Ctrl-C the cell in flight finishes and is stored.")
            case .checkpointed(let what, let packed):
                out.append("Progress: while a cell computes, its \(what) are saved every \(Int(CellCheckpoint.interval)) s and "
                    + "on Ctrl-C under `scratch/\(d.kind.rawValue)/<stage key>/`; a re-run continues from there to the "
                    + "uninterrupted result to the bit, and the files are deleted once the cell is stored"
                    + (packed ? "; `reptune pack` carries them." : " (`reptune pack` leaves them behind: they are large)."))
            }
            out.append("")
        }
        out.append(end)
        return out.joined(separator: "\n")
    }

    /// `document` with its generated section replaced by the current one (appended when it has none).
    public static func updating(_ document: String) -> String {
        guard let start = document.range(of: begin), let stop = document.range(of: end, range: start.upperBound..<document.endIndex) else {
            return document + "\n" + markdown() + "\n"
        }
        return String(document[..<start.lowerBound]) + markdown() + String(document[stop.upperBound...])
    }
}
