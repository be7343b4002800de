import Foundation

/// A cell whose numbers stopped being finite (NaN or ±infinity): logits or activations overflowed fp32 — usually a
/// steering multiplier far too large — or a training loss diverged. The cell fails with this error, naming the
/// stage, the cell, and the layer and multiplier (or what else was in effect); nothing non-finite is stored.
public struct NonFiniteError: Error, Sendable, CustomStringConvertible {
    public var stage: String
    public var cells: [SweepCell]
    /// What stopped being finite: "the activations" (the logits, or the residual's squared norm in an RMSNorm),
    /// "the training loss or gradient at step 12".
    public var what: String
    /// What was in effect: "steering block 10's output with multiplier 1e+308".
    public var setting: String

    public init(stage: String, cells: [SweepCell], what: String, setting: String) {
        self.stage = stage
        self.cells = cells
        self.what = what
        self.setting = setting
    }

    /// The scheduler puts the (first) failed cell before it: `cell #3 {"layer":10,"multiplier":1e+30}: stage …`.
    public var description: String {
        "stage \(stage): \(what) became non-finite (NaN or ±infinity) while \(setting); nothing was stored for "
            + (cells.count == 1 ? "this cell" : "these \(cells.count) cells (#\(cells.map { String($0.index) }.joined(separator: ", #")))")
            + (setting.contains("multiplier") ? " — a multiplier this large overflows fp32 activations" : "")
    }

    /// What a stage's model variant does, for the message (`StageModel.label` made into a phrase).
    static func setting(of model: StageModel, layer: Int?, multiplier: Double?) -> String {
        if let layer, let multiplier {
            return "steering block \(layer)'s output with multiplier \(PythonNumber.format(multiplier))"
                + (model.label.hasPrefix("tuned") ? " on the \(model.label) model" : "")
        }
        return "running the \(model.label) model"
    }
}
