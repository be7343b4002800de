import Experiments
import Foundation
import ModelFormats

/// The progress of one `collect_activations` cell, saved under the results directory so that an interrupted
/// collection resumes at its next prompt batch: the correct-only answers so far (one flag per statement) and the
/// activations of the positive and negative prompts done, as a safetensors file
/// (`scratch/collect_activations/<stage key>/cell-<index>.safetensors`, tensors named as in `ActivationArtifact`).
/// Batches are cut as in an uninterrupted run, so the resumed artifact is the same file to the bit. The stage key
/// fixes model, dataset and settings; layers, positions, batch size and statement count are stored as a check.
struct ActivationCheckpoint {
    /// What a previous run saved (empty when nothing fitting was saved).
    struct Saved {
        var correct: [Bool] = []
        var positive: [Int: ActivationMatrix]?
        var negative: [Int: ActivationMatrix]?
    }

    let layers: [Int]
    let offsets: [Int]
    let batchSize: Int
    /// Statements per correct-only batch (`Evaluator.batchSize`).
    let answerBatch: Int
    private var file: CellCheckpoint
    private let context: StageContext
    private let cell: SweepCell
    private var statements = 0
    /// Units of work (answers and prompts) done when the cell started, and the latest correct-only flags.
    private var restored = 0
    private var correct: [Bool] = []

    init(context: StageContext, cell: SweepCell, layers: [Int], offsets: [Int], batchSize: Int, answerBatch: Int) {
        self.answerBatch = answerBatch
        self.context = context
        self.cell = cell
        self.layers = layers
        self.offsets = offsets
        self.batchSize = batchSize
        file = CellCheckpoint(context, name: "cell-\(cell.index).safetensors")
    }

    /// The saved progress of this cell when there is a file that fits it; nothing otherwise (and a note when a file
    /// does not fit).
    mutating func restore(statements: Int) -> Saved {
        self.statements = statements
        guard file.exists else { return Saved() }
        if let saved = try? read(), fits(saved) {
            correct = saved.correct
            restored = Self.units(saved.correct, saved.positive, saved.negative)
            context.log("resuming at \(saved.correct.count) correct-only answers, \(saved.positive?.values.first?.count ?? 0) + "
                + "\(saved.negative?.values.first?.count ?? 0) prompts from \(file.url.lastPathComponent)")
            return saved
        }
        context.log("starting over: \(file.url.path) does not fit this cell (layers \(layers), offsets \(offsets), batches of \(batchSize))")
        remove()
        return Saved()
    }

    /// Between two correct-only batches: saves the answers so far when it is time to (or the run is cancelled: then
    /// throws `StageCancelled`).
    mutating func reached(correct: [Bool]) throws {
        self.correct = correct
        try reached(positive: nil, negative: nil)
    }

    /// Between two prompt batches: saves the activations so far when it is time to (or the run is cancelled: then
    /// throws `StageCancelled`).
    mutating func reached(positive: [Int: ActivationMatrix]?, negative: [Int: ActivationMatrix]?) throws {
        let progress = Self.units(correct, positive, negative)
        let prompts = (positive?.values.first?.count ?? 0) + (negative?.values.first?.count ?? 0)
        let (correct, layers, offsets, batchSize, statements) = (self.correct, self.layers, self.offsets, self.batchSize, self.statements)
        try file.reached(context, done: "cell \(cell.index): interrupted after \(correct.count) correct-only answers and \(prompts) prompts",
                         hasNew: progress > restored) { url in
            var tensors: [SafeTensorsWriter.Tensor] = []
            for (group, set) in [("positive", positive), ("negative", negative)] {
                guard let set, let any = set.values.first, any.count > 0 else { continue }
                for o in offsets {
                    for l in layers { tensors.append((name: "\(group).L\(l).o\(o)", shape: [any.count, any.width], values: set[o]!.rows[l]!, dtype: .f32)) }
                }
            }
            try SafeTensorsWriter.write(tensors: tensors, metadata: [
                "layers": layers.map(String.init).joined(separator: ","),
                "offsets": offsets.map(String.init).joined(separator: ","),
                "batch_size": String(batchSize), "statements": String(statements),
                "correct": String(correct.map { $0 ? "1" : "0" }),
                "positive": String(positive?.values.first?.count ?? 0), "negative": String(negative?.values.first?.count ?? 0),
            ], to: url)
        }
    }

    func remove() { file.remove() }

    private static func units(_ correct: [Bool], _ positive: [Int: ActivationMatrix]?, _ negative: [Int: ActivationMatrix]?) -> Int {
        correct.count + (positive?.values.first?.count ?? 0) + (negative?.values.first?.count ?? 0)
    }

    /// Whether the saved correct-only answers are a whole number of `answerBatch` batches (or all statements).
    private func fits(_ saved: Saved) -> Bool {
        saved.correct.count <= statements && (saved.correct.count % answerBatch == 0 || saved.correct.count == statements)
    }

    /// Whether `saved` activations of `total` prompts are a whole number of batches (or all of them); a collection
    /// continues from them only then, so its batches are cut as an uninterrupted run cuts them.
    func fits(_ saved: [Int: ActivationMatrix]?, of total: Int) -> Bool {
        let count = saved?.values.first?.count ?? 0
        return count <= total && (count % batchSize == 0 || count == total)
    }

    private func read() throws -> Saved {
        let data = try SafeTensorsFile(contentsOf: file.url)
        let meta = data.metadata
        guard meta["layers"] == layers.map(String.init).joined(separator: ","),
              meta["offsets"] == offsets.map(String.init).joined(separator: ","),
              meta["batch_size"] == String(batchSize), meta["statements"] == String(statements),
              let positive = meta["positive"].flatMap(Int.init), let negative = meta["negative"].flatMap(Int.init) else {
            throw StageInputError("\(file.url.path): the checkpoint's settings differ from this cell's")
        }
        var saved = Saved(correct: (meta["correct"] ?? "").map { $0 == "1" })
        for (group, count) in [("positive", positive), ("negative", negative)] where count > 0 {
            var matrices: [Int: ActivationMatrix] = [:]
            for o in offsets {
                var rows: [Int: [Float]] = [:], width = 0
                for l in layers {
                    let name = "\(group).L\(l).o\(o)"
                    guard let info = data.tensors[name], info.shape.count == 2, info.shape[0] == count else {
                        throw StageInputError("\(file.url.path): tensor \(name) is missing or not [\(count) × width]")
                    }
                    width = info.shape[1]
                    rows[l] = try data.floats(named: name)
                }
                matrices[o] = ActivationMatrix(layers: layers, width: width, rows: rows, count: count)
            }
            if group == "positive" { saved.positive = matrices } else { saved.negative = matrices }
        }
        return saved
    }
}
