import Foundation
import ModelFormats

/// The resident memory the engine will need for a model, a weights policy and a workload, estimated before
/// anything is loaded (`reptune inspect MODEL --memory`, `reptune run --dry-run`). Each line says what it counts;
/// `Tests/EngineTests/MemoryPlanTests` checks the total against the peak resident memory of real runs.
public struct MemoryPlan: Sendable, Codable {
    /// One part of the total.
    public struct Line: Sendable, Codable {
        public var name: String
        public var bytes: Int
        public var note: String
    }

    /// What the engine will run: a batch of sequences of up to `context` tokens, whose longest forward pass holds
    /// `rowsPerPass` tokens, `logitRows` of them producing logits; and, for tuning, the trainable blocks.
    public struct Workload: Sendable, Codable {
        public var batch: Int
        public var context: Int
        public var rowsPerPass: Int
        public var logitRows: Int
        /// Blocks with fp32 weights, gradients and AdamW moments (representation tuning), 0 for inference.
        public var trainableBlocks: Int
        /// Blocks whose activations a training step records (from the lowest trainable block to the last).
        public var recordedBlocks: Int
        /// Gradients and AdamW moments live on disk (`RepresentationTuner(stateDirectory:)`).
        public var stateOnDisk = false

        public init(batch: Int, context: Int, rowsPerPass: Int, logitRows: Int, trainableBlocks: Int, recordedBlocks: Int) {
            self.batch = batch
            self.context = context
            self.rowsPerPass = rowsPerPass
            self.logitRows = logitRows
            self.trainableBlocks = trainableBlocks
            self.recordedBlocks = recordedBlocks
        }

        /// Generation: `batch` sequences of `context` tokens, prefilled together, logits of the last positions.
        public static func generation(batch: Int, context: Int) -> Workload {
            Workload(batch: batch, context: context, rowsPerPass: batch * context, logitRows: batch, trainableBlocks: 0,
                     recordedBlocks: 0)
        }

        /// A tuning step: `batch` sequences of `tokens`, `trainable` blocks, activations recorded from the lowest
        /// trainable block up (`recorded` blocks).
        public static func training(batch: Int, tokens: Int, trainable: Int, recorded: Int) -> Workload {
            Workload(batch: batch, context: tokens, rowsPerPass: batch * tokens, logitRows: batch, trainableBlocks: trainable,
                     recordedBlocks: recorded)
        }
    }

    public var policy: WeightsPolicy
    public var workload: Workload
    public var lines: [Line]
    public var totalBytes: Int { lines.reduce(0) { $0 + $1.bytes } }

    /// The process without a model: the executable, Foundation, OpenBLAS's thread buffers (measured: 45–60 MB).
    public static let runtimeBytes = 60 << 20

    public init(summary s: ModelFileSummary, policy requested: WeightsPolicy, workload w: Workload) {
        let c = s.config
        let policy = s.resolve(requested)
        self.policy = policy
        workload = w
        var lines = [Line]()
        let d = c.embeddingLength, ff = c.feedForwardLength, q = c.queryWidth, kv = c.keyValueWidth
        func mib(_ n: Int) -> String { String(format: "%.0f MiB", Double(n) / 1_048_576) }

        lines.append(Line(name: "runtime", bytes: Self.runtimeBytes, note: "executable, Foundation, OpenBLAS buffers"))
        // Vocabulary strings, merges and lookup tables: about 250 bytes a token (measured on 49k and 152k vocabularies).
        lines.append(Line(name: "tokenizer", bytes: c.vocabularySize * 250, note: "\(c.vocabularySize) tokens"))
        switch policy {
        case .native, .auto:
            // A separate output head leaves the embedding table's pages untouched but for the tokens looked up; the
            // blocks being tuned are read once, into their fp32 copies, and not again while training.
            let embedding = c.tiedEmbeddings ? 0 : s.embeddingBytes
            // The head is the embedding table, or a matrix of the same shape.
            let perBlock = max(0, s.encodedBytes - embedding - s.embeddingBytes) / max(1, c.blockCount)
            let trained = w.trainableBlocks * perBlock
            var notes = [String]()
            if embedding > 0 { notes.append("the \(mib(embedding)) embedding table only where looked up") }
            if trained > 0 { notes.append("the \(mib(trained)) of the tuned blocks read once, into their fp32 copies") }
            lines.append(Line(name: "weights (native)", bytes: s.encodedBytes - embedding - trained,
                              note: "the file's tensors read in place from its memory map" + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")")))
        case .fp32:
            lines.append(Line(name: "weights (fp32)", bytes: 4 * s.parameterCount,
                              note: "\(s.parameterCount) weights dequantized at load"))
            if s.supportsNative {
                lines.append(Line(name: "file pages", bytes: s.fileBytes,
                                  note: "the file's memory map, read once at load (the kernel may drop these pages)"))
            }
        }
        // Generation reserves each sequence's cache for its prompt and new tokens.
        let kvBytes = 2 * c.blockCount * kv * 4 * w.context * w.batch
        lines.append(Line(name: "KV cache", bytes: kvBytes,
                          note: "\(w.batch) × \(w.context) tokens × \(c.blockCount) blocks × K,V of \(kv) floats"))
        let rowFloats = 2 * d + (q + 2 * kv) + q + 3 * ff + c.headDimension
        // The products' scratch: a decoded panel (1 MiB) or the 8-bit activations, both small.
        let forward = w.rowsPerPass * rowFloats * 4 + w.logitRows * c.vocabularySize * 4 + (1 << 20)
        lines.append(Line(name: "activations", bytes: forward,
                          note: "a forward pass of \(w.rowsPerPass) tokens, \(w.logitRows) rows of logits"))
        if w.trainableBlocks > 0 {
            let trainable = w.trainableBlocks * c.weightsPerBlock
            lines.append(Line(name: "trainable weights", bytes: 4 * trainable,
                              note: "\(w.trainableBlocks) blocks × \(c.weightsPerBlock) weights in fp32"))
            if w.stateOnDisk {
                lines.append(Line(name: "gradients, moments", bytes: 12 * c.weightsPerBlock,
                                  note: String(format: "on disk (%.1f GiB, paged by the kernel): about one block's in memory at a time",
                                               Double(12 * trainable) / Double(1 << 30))))
            } else {
                lines.append(Line(name: "gradients, moments", bytes: 12 * trainable,
                                  note: "fp32 gradients and AdamW m, v of every trainable weight"))
            }
            lines.append(Line(name: "activation tape", bytes: Self.trainingActivations(config: c, workload: w),
                              note: "\(w.recordedBlocks) blocks recorded for the backward pass, and its temporaries"))
        }
        self.lines = lines
    }

    /// Bytes of a training step's activations: the tape of the recorded blocks and the backward pass's temporaries.
    public static func trainingActivations(config c: ModelConfig, workload w: Workload) -> Int {
        let d = c.embeddingLength, ff = c.feedForwardLength, q = c.queryWidth, kv = c.keyValueWidth
        let tape = w.recordedBlocks * w.rowsPerPass * (2 * d + (q + 2 * kv) + q + 3 * ff) * 4
        let backward = w.rowsPerPass * (3 * ff + 2 * d + q + (q + 2 * kv)) * 4 + 2 * w.context * w.context * 4
        return tape + backward
    }

    /// The plan as aligned text lines.
    public var text: String {
        func mib(_ n: Int) -> String { String(format: "%8.0f MiB", Double(n) / 1_048_576) }
        var out = lines.map { "  " + $0.name.padding(toLength: 18, withPad: " ", startingAt: 0) + mib($0.bytes) + "  " + $0.note }
        out.append("  " + "total".padding(toLength: 18, withPad: " ", startingAt: 0) + mib(totalBytes))
        return out.joined(separator: "\n")
    }
}
