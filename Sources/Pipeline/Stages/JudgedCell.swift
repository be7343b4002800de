import Experiments
import Foundation

/// Which cell of a judge's input holds the generations it compares: the input's only cell, or — for inputs with
/// several cells (CAA's open-ended answers per behaviour × multiplier) — the one cell of a behaviour and a steering
/// multiplier, read from the cell's coordinates or, for axes given as one value, its outputs.
enum JudgedCell {
    /// The cell of `input` the judge reads; `place` starts the error message ("stage j: input `a`").
    static func select(_ input: InputStage, behaviour: String?, multiplier: Double?, place: String) throws -> CellRecord {
        guard behaviour != nil || multiplier != nil else {
            guard input.cells.count == 1, let cell = input.cells.first else {
                throw StageInputError("\(place) (stage \(input.stageID)) has \(input.cells.count) cells; the judge compares stages "
                                      + "with one cell (one model variant), or names `behaviours` / `a_multiplier` / `b_multiplier`")
            }
            return cell
        }
        let matching = input.cells.filter { cell in
            (behaviour.map { Self.behaviours(of: cell).contains(CAAStageData.behaviour(named: $0)) } ?? true)
                && (multiplier.map { Self.multiplier(of: cell) == $0 } ?? true)
        }
        guard matching.count == 1, let cell = matching.first else {
            let wanted = [behaviour.map { "behaviour \($0)" }, multiplier.map { "multiplier \(PythonNumber.format($0))" }]
                .compactMap { $0 }.joined(separator: " and ")
            let cells = input.cells.map { c in
                "#\(c.index) (\(Self.behaviours(of: c).sorted().joined(separator: "/")), ×\(Self.multiplier(of: c).map(PythonNumber.format) ?? "–"))"
            }
            throw StageInputError("\(place) (stage \(input.stageID)) has \(matching.count) cells of \(wanted); expected one "
                                  + "(its cells: \(cells.joined(separator: ", ")))")
        }
        return cell
    }

    /// The behaviour names a cell answers to: its `behaviour` coordinate or output and its `dataset` output, as
    /// CAA behaviour names.
    static func behaviours(of cell: CellRecord) -> Set<String> {
        let values = [cell.coordinates["behaviour"], cell.outputs["behaviour"], cell.outputs["dataset"]].compactMap { $0?.stringValue }
        return Set(values.map(CAAStageData.behaviour(named:)))
    }

    static func multiplier(of cell: CellRecord) -> Double? {
        cell.coordinates["multiplier"]?.doubleValue ?? cell.outputs["multiplier"]?.doubleValue
    }
}
