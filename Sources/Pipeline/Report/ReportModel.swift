import Experiments

/// One row of a facts / TQA table: one condition (an evaluate stage's cell = one model variant) with its counts,
/// Wilson 95% intervals, and its comparison with the base condition.
public struct ConditionResult: Sendable {
    public var stageID: String
    public var cellIndex: Int
    public var label: String
    public var variant: String
    public var n: Int
    public var honest: Int
    public var dishonest: Int
    public var unparseable: Int
    public var honestInterval: WilsonInterval
    public var dishonestInterval: WilsonInterval
    /// `logit_honest_pct`: % of prompts whose honest answer token is the more probable one (nil if not stored).
    public var logitHonestPercent: Double?
    /// Item → score (1 honest, 0 dishonest, nil unparseable) from the stored generations; empty if none stored.
    public var scores: [Int: Double?]
    public var isBase: Bool
    /// Against the table's base condition (nil for the base row or when there is no base).
    public var versusBase: ConditionComparison?
    /// The controls the condition stored (`kl_neutral`, `distinct_1_pct`, `distinct_2_pct`), by metric name.
    public var controls: [String: Double] = [:]

    public var honestPercent: Double { n > 0 ? 100 * Double(honest) / Double(n) : 0 }
    public var dishonestPercent: Double { n > 0 ? 100 * Double(dishonest) / Double(n) : 0 }
    public var unparseablePercent: Double { n > 0 ? 100 * Double(unparseable) / Double(n) : 0 }
}

/// A condition against the base condition: differences in percentage points, two-proportion z-tests
/// (independent samples) and, when both answered the same items, McNemar's exact test on the paired answers.
public struct ConditionComparison: Sendable {
    public var honestDifference: Double
    public var dishonestDifference: Double
    public var honestZ: TwoProportionZTest?
    public var dishonestZ: TwoProportionZTest?
    public var honestMcNemar: McNemarTest?
    public var dishonestMcNemar: McNemarTest?
    /// Items both conditions answered (0 when the item sets differ: no paired test).
    public var pairedItems: Int
}

/// The conditions of one task (and dataset): facts, tqa, ab_questions.
public struct ConditionTable: Sendable {
    public var task: String
    public var dataset: String?
    /// Table and file id (`facts`, `tqa`, or `facts-<dataset>` when a task is evaluated on several datasets).
    public var id: String
    public var rows: [ConditionResult]
    public var base: ConditionResult? { rows.first(where: \.isBase) }
}

/// A steering sweep's honest % over layer × multiplier (and per-layer zero-out cells).
public struct SweepGrid: Sendable {
    public var stageID: String
    public var task: String?
    public var layers: [Int]
    public var multipliers: [Double]
    /// `honest[layer index][multiplier index]`, nil where no cell is done.
    public var honest: [[Double?]]
    /// Layer → honest % of its zero-out cell.
    public var zeroOut: [Int: Double]
}

/// Per-layer diagnostics of one vectors stage.
public struct VectorDiagnostics: Sendable {
    /// One layer's row.
    public struct Layer: Sendable {
        public var layer: Int
        public var auroc: Double?
        public var explainedVariance: Double?
        public var norm: Double?
        public var lensPositive: [String]
        public var lensNegative: [String]
    }

    public var stageID: String
    public var method: String?
    public var layers: [Layer]
}

/// Perplexity of one model variant (one perplexity cell).
public struct PerplexityResult: Sendable {
    public var label: String
    public var variant: String
    public var perplexity: Double?
    public var tokens: Double?
    public var nll: Double?
}

/// One tuning run (one tune cell): final metrics, loss history and the cosine map of base vs tuned.
public struct TuneRun: Sendable {
    /// One history entry.
    public struct Step: Sendable {
        public var step: Int
        public var train: Double?
        public var validation: Double?
    }

    /// Cosine similarity of the residual with the vector, per layer × position, for the base and tuned models.
    public struct CosineMap: Sendable {
        public var layers: [Int]
        public var positions: [Int]
        public var base: [[Double?]]
        public var tuned: [[Double?]]
    }

    public var stageID: String
    public var cellIndex: Int
    public var label: String
    public var objective: String?
    public var metrics: [String: Double]
    public var history: [Step]
    public var cosineMap: CosineMap?
}

/// One judge cell: whatever metrics the judge stored (wins, ties, Wilcoxon p, κ, …).
public struct JudgeResult: Sendable {
    public var label: String
    public var metrics: [String: Double]
}

/// Everything a report shows, assembled from stored stages (`ReportModel.assemble`); rendering is separate
/// (`ReportModel.document()`).
public struct ReportModel: Sendable {
    public var title: String
    public var preamble: [String]
    public var conditions: [ConditionTable]
    public var sweeps: [SweepGrid]
    public var vectors: [VectorDiagnostics]
    public var perplexity: [PerplexityResult]
    public var tunes: [TuneRun]
    public var judges: [JudgeResult]
    /// `actadd_topic` stages (`ActAddTopicReport.swift`).
    public var actAddTopics: [ActAddTopicResult] = []
    /// `caa_ab_sweep` stages (CAAReportSection.swift).
    public var caa: [CAASweepResult] = []
    /// `caa_open_ended` stages.
    public var caaOpenEnded: [StoredStage] = []
    /// `caa_conditional` stages (CAAConditionalReport.swift).
    public var caaConditional: [StoredStage] = []
}
