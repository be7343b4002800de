import Foundation
import ModelFormats

/// A resumable snapshot of a `RepresentationTuner`, stored as a GGUF file (written atomically: temp file beside
/// the target, then rename).
///
/// Contents: every buffer of every trainable block (`w.<block>.<buffer>`, the order of `BlockWeights.buffers`),
/// AdamW's first and second moments per optimizer slot (`m.<slot>`, `v.<slot>`), and in the metadata key
/// `reptune.checkpoint.state` a JSON object with the settings, the optimizer step, the early-stopping state, the
/// history (whose length is the batch cursor) and the caller's data fingerprint. All values are fp32/fp64 stored
/// bit for bit, so a run resumed from a checkpoint continues exactly as the uninterrupted run would have: the batch
/// order is a function of the seed alone (see `TuningBatches`), so the cursor is all that is needed of it.
public struct TuningCheckpoint: Sendable, Codable, Equatable {
    /// Format version of the state JSON.
    public static let version = 1
    static let stateKey = "reptune.checkpoint.state"

    public var version: Int
    public var settings: TuningSettings
    /// Optimizer steps taken (bias correction and schedule position).
    public var optimizerStep: Int
    public var stopping: EarlyStoppingState
    public var history: [TuningStepRecord]
    /// Identifies the training data and batch order (e.g. a SHA-256 of the batches); a checkpoint is refused by
    /// a run with another fingerprint.
    public var fingerprint: String
    /// Wall-clock seconds spent training up to the checkpoint (bookkeeping only; not part of the numerics).
    public var seconds: Double

    /// Reads only the state of the checkpoint at `url` (not the tensors).
    public static func readState(from url: URL) throws -> TuningCheckpoint {
        try state(of: GGUFFile(contentsOf: url))
    }

    static func state(of file: GGUFFile) throws -> TuningCheckpoint {
        guard case .string(let text)? = file.metadata[stateKey] else {
            throw TuningCheckpointError(file: file.url.path, "metadata key \(stateKey): expected the checkpoint state as a JSON string; missing")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let state: TuningCheckpoint
        do { state = try decoder.decode(TuningCheckpoint.self, from: Data(text.utf8)) } catch {
            throw TuningCheckpointError(file: file.url.path, "metadata key \(stateKey): not a checkpoint state (\(error))")
        }
        guard state.version == version else {
            throw TuningCheckpointError(file: file.url.path, "checkpoint format version \(state.version); this reptune reads version \(version)")
        }
        return state
    }
}

/// A checkpoint that cannot be read or does not belong to the run resuming it; names the file and the field.
public struct TuningCheckpointError: Error, CustomStringConvertible {
    public var file: String
    public var message: String
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

extension RepresentationTuner {
    /// Writes the tuner's trainable weights, optimizer moments and step, early-stopping state and history to
    /// `url` (atomically). `fingerprint` identifies the data and batch order; `seconds` is the training time so far.
    public func writeCheckpoint(to url: URL, fingerprint: String, seconds: Double = 0) throws {
        let state = TuningCheckpoint(version: TuningCheckpoint.version, settings: settings, optimizerStep: optimizer.step,
                                     stopping: stopping, history: history, fingerprint: fingerprint, seconds: seconds)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        encoder.outputFormatting = [.sortedKeys]
        var w = GGUFWriter()
        w.set("general.architecture", .string("reptune-checkpoint"))
        w.set(TuningCheckpoint.stateKey, .string(String(decoding: try encoder.encode(state), as: UTF8.self)))
        // Written from the buffers themselves (no copy: a 13B model's state is tens of gigabytes).
        for l in settings.trainableBlocks {
            for (i, b) in model.weights.blocks[l].buffers.enumerated() {
                try w.addTensor(name: "w.\(l).\(i)", shape: [b.count], borrowing: UnsafeBufferPointer(b.buffer))
            }
        }
        for (i, slot) in optimizer.slots.enumerated() {
            try w.addTensor(name: "m.\(i)", shape: [slot.firstMoment.count], borrowing: UnsafeBufferPointer(slot.firstMoment.buffer))
            try w.addTensor(name: "v.\(i)", shape: [slot.secondMoment.count], borrowing: UnsafeBufferPointer(slot.secondMoment.buffer))
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try w.write(to: url)
    }

    /// Restores a checkpoint written by `writeCheckpoint` into this tuner, which must have been created with the
    /// same base model and settings; fails (changing nothing) when the settings, the fingerprint or a tensor's size
    /// differ. Returns the restored state.
    @discardableResult
    public mutating func restoreCheckpoint(from url: URL, fingerprint: String) throws -> TuningCheckpoint {
        let file = try GGUFFile(contentsOf: url)
        let state = try TuningCheckpoint.state(of: file)
        let path = url.path
        guard state.settings == settings else {
            throw TuningCheckpointError(file: path, "settings: the checkpoint was written with \(state.settings), this run uses \(settings)")
        }
        guard state.fingerprint == fingerprint else {
            throw TuningCheckpointError(file: path, "fingerprint: the checkpoint was written for data \(state.fingerprint), this run's data is \(fingerprint)")
        }
        var copies: [(GGUFTensorInfo, FloatBuffer)] = []
        func plan(_ name: String, _ buffer: FloatBuffer) throws {
            guard let t = file.tensor(named: name) else {
                throw TuningCheckpointError(file: path, "tensor \(name): missing")
            }
            guard t.type == .f32, t.elementCount == buffer.count else {
                throw TuningCheckpointError(file: path, "tensor \(name): expected \(buffer.count) f32 values, found \(t.elementCount) \(t.type.name)")
            }
            copies.append((t, buffer))
        }
        for l in settings.trainableBlocks {
            for (i, b) in model.weights.blocks[l].buffers.enumerated() { try plan("w.\(l).\(i)", b) }
        }
        for (i, slot) in optimizer.slots.enumerated() {
            try plan("m.\(i)", slot.firstMoment)
            try plan("v.\(i)", slot.secondMoment)
        }
        for (t, b) in copies { try file.dequantize(t, into: b.buffer) }
        optimizer.restore(step: state.optimizerStep)
        stopping = state.stopping
        history = state.history
        return state
    }
}
