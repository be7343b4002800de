import Experiments
import Foundation

/// The answers so far of one steering-sweep block (one layer's cells, which decode each prompt together), saved
/// under the results directory so that an interrupted block resumes at its next prompt batch rather than starting
/// over: on Llama-2-13b a block of the paper's grid is hours of decoding. Batches are cut as in the uninterrupted
/// run, so the resumed cells store the same answers to the bit. The stage key fixes model, vector, prompts and
/// decoding; the cells, prompt count and batch size are stored as a check all the same.
struct SweepBlockCheckpoint {
    /// One answer without its prompt text (which the stage has anyway); the logit share as its bit pattern, since a
    /// decimal round trip through JSON may miss the last bit and the resumed metrics must equal the uninterrupted ones.
    private struct Answer: Codable {
        var item: Int
        var output: String
        var choice: AnswerChoice?
        var honest: AnswerChoice?
        var shareOfABits: UInt64?
        /// The generation's logits were not finite (absent = false).
        var nonFinite: Bool?
    }

    private struct Contents: Codable {
        var cells: [Int]
        var prompts: Int
        var promptsPerBatch: Int
        /// Per cell, in `cells` order, the answers to the first prompts (the same number for every cell).
        var answers: [[Answer]]
    }
    let layer: Int
    let cells: [Int]
    /// The dataset item of each prompt, in decoding order.
    let items: [Int]
    let promptsPerBatch: Int
    private var file: CellCheckpoint
    private let context: StageContext

    init(context: StageContext, layer: Int, cells: [SweepCell], items: [Int], promptsPerBatch: Int) {
        self.context = context
        self.layer = layer
        self.cells = cells.map(\.index)
        self.items = items
        self.promptsPerBatch = promptsPerBatch
        file = CellCheckpoint(context, name: "layer-\(layer).json")
    }

    /// The saved answers of this block's cells to the first prompts (item ids checked against `items`), with their
    /// prompt texts from `promptTexts`; one empty list per cell when nothing fitting is saved.
    func restore(promptTexts: [String]) -> [[EvaluatedAnswer]] {
        let fresh = Array(repeating: [EvaluatedAnswer](), count: cells.count)
        guard file.exists else { return fresh }
        if let saved = file.loadJSON(Contents.self), saved.cells == cells, saved.prompts == items.count, saved.promptsPerBatch == promptsPerBatch,
           saved.answers.count == cells.count, let done = saved.answers.first?.count, done <= items.count,
           done % promptsPerBatch == 0 || done == items.count,
           saved.answers.allSatisfy({ $0.count == done && zip($0, items).allSatisfy { $0.item == $1 } }) {
            context.log("layer \(layer): resuming at prompt \(done) of \(items.count) from \(file.url.lastPathComponent)")
            return saved.answers.map { answers in
                answers.enumerated().map { j, a in
                    var answer = EvaluatedAnswer(item: a.item, promptText: promptTexts[j], output: a.output, choice: a.choice,
                                                 honest: a.honest, shareOfA: a.shareOfABits.map(Double.init(bitPattern:)))
                    answer.nonFinite = a.nonFinite ?? false
                    return answer
                }
            }
        }
        context.log("layer \(layer): starting over: \(file.url.path) does not fit this block (expected cells \(cells), "
            + "\(items.count) prompts in batches of \(promptsPerBatch))")
        remove()
        return fresh
    }

    /// Before the prompt batch at `start`: saves the answers so far when it is time to (or the run is cancelled: then
    /// throws `StageCancelled`); nothing new is saved before the first batch of a run.
    mutating func reached(_ answers: [[EvaluatedAnswer]], start: Int, resumedAt: Int) throws {
        try file.reached(context, done: "layer \(layer): interrupted after prompt \(start) of \(items.count)", hasNew: start > resumedAt,
                         save: CellCheckpoint.json(Contents(cells: cells, prompts: items.count, promptsPerBatch: promptsPerBatch, answers: answers.map {
            $0.map { Answer(item: $0.item, output: $0.output, choice: $0.choice, honest: $0.honest, shareOfABits: $0.shareOfA?.bitPattern,
                            nonFinite: $0.nonFinite ? true : nil) }
        })))
    }

    func remove() { file.remove() }
}
