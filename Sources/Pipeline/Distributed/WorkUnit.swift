import Foundation

/// One unit of work handed to a worker: cells of one stage, named by the stage's cache key and the cells' indices
/// (a cell, or a block of sweep cells that share a prompt prefix). The key alone names the whole stage.
public struct WorkUnit: Sendable, Hashable, CustomStringConvertible {
    /// The stage's cache key (`StageKey.hex`).
    public var stageKey: String
    /// Cell indices, ascending.
    public var cells: [Int]

    public init(stageKey: String, cells: [Int]) {
        self.stageKey = stageKey
        self.cells = cells.sorted()
    }

    /// The cells as ranges: `0-3,7,9-12`.
    public var cellList: String { Self.format(cells) }

    /// `<stage key>:<cells>`, as `reptune worker` takes it and `reptune status` shows it.
    public var description: String { "\(stageKey):\(cellList)" }

    /// Where the worker leaves this unit's result: `bundles/<stage key>/<cells>.bundle` in the results directory.
    public func bundleURL(in directory: URL) -> URL {
        directory.appendingPathComponent("bundles/\(stageKey)/\(cellList).bundle")
    }

    /// Reads `<stage key>[:<cells>]`; without cells the unit is every cell of the stage (`allCells`).
    public init(parsing text: String, allCells: [Int]) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let key = parts.first ?? ""
        guard key.count == 64, key.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw WorkUnitError("unit \(text): expected a stage cache key (64 lowercase hex digits), optionally followed by :CELLS (e.g. :0-3,7)")
        }
        self.init(stageKey: key, cells: parts.count > 1 ? try Self.parse(parts[1], unit: text) : allCells)
    }

    static func format(_ cells: [Int]) -> String {
        var out: [String] = []
        var i = 0
        while i < cells.count {
            var j = i
            while j + 1 < cells.count, cells[j + 1] == cells[j] + 1 { j += 1 }
            out.append(j == i ? "\(cells[i])" : "\(cells[i])-\(cells[j])")
            i = j + 1
        }
        return out.joined(separator: ",")
    }

    static func parse(_ text: String, unit: String) throws -> [Int] {
        var cells: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds[0], let high = bounds.last!, low >= 0, low <= high,
                  high - low < 1 << 20 else {
                throw WorkUnitError("unit \(unit): cells \(text) is not a list of indices and ranges like 0-3,7 (at \"\(part)\")")
            }
            cells += Array(low...high)
        }
        return Array(Set(cells)).sorted()
    }

    /// Splits a stage's pending cells into at most `parts` units of consecutive cells (consecutive sweep cells share
    /// a prompt prefix, so a block stays in one unit).
    public static func split(stageKey: String, cells: [Int], parts: Int) -> [WorkUnit] {
        guard !cells.isEmpty else { return [] }
        let n = max(1, min(parts, cells.count))
        let size = (cells.count + n - 1) / n
        return stride(from: 0, to: cells.count, by: size).map { WorkUnit(stageKey: stageKey, cells: Array(cells[$0..<min($0 + size, cells.count)])) }
    }
}

/// A unit that cannot be named, found or run as asked.
public struct WorkUnitError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The cells of a unit as a worker's `StageContext` hands them out and collects their results (instead of claims and
/// commits in the store). Used on the worker's one thread.
final class UnitLedger {
    private var pending: [SweepCell]
    private(set) var results: [(cell: SweepCell, result: CellResult)] = []
    private(set) var failures: [(cell: SweepCell, error: String)] = []

    init(cells: [SweepCell]) { pending = cells }

    func take(_ max: Int, among indices: [Int]?) -> [SweepCell] {
        var taken: [SweepCell] = []
        pending.removeAll { cell in
            guard taken.count < max, indices.map({ $0.contains(cell.index) }) ?? true else { return false }
            taken.append(cell)
            return true
        }
        return taken
    }

    func finish(_ cell: SweepCell, _ result: CellResult) -> Bool {
        results.append((cell, result))
        return true
    }

    func fail(_ cell: SweepCell, _ error: String) { failures.append((cell, error)) }
}
