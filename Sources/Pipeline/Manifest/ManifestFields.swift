import Engine
/// One fixed (non-parameter) field of the manifest format, with its doc string. The decoder's set of known keys,
/// the docs and the JSON Schema all come from these tables and from `StageCatalog`.
public struct FieldDoc: Sendable {
    public var name: String
    public var required: Bool
    /// Type as shown in the docs.
    public var type: String
    public var doc: String

    public init(_ name: String, required: Bool, _ type: String, _ doc: String) {
        self.name = name
        self.required = required
        self.type = type
        self.doc = doc
    }
}

/// The fixed structure of a manifest: top-level keys, the model object, datasets, splits and stages.
public enum ManifestFields {
    public static let topLevel: [FieldDoc] = [
        FieldDoc("$schema", required: false, "string", "Path or URL of `manifest.schema.json`, for editors; ignored by reptune."),
        FieldDoc("name", required: true, "string", "Experiment name (letters, digits, `_`, `-`, `.`); shown in status and reports."),
        FieldDoc("description", required: false, "string", "Free text."),
        FieldDoc("model", required: false, "string or object",
                 "The model: a named model (`\"\(ModelCatalog.defaultName)\"`), a path to a GGUF or safetensors "
                 + "file, or an object (below). Absent = `\"\(ModelCatalog.defaultName)\"`."),
        FieldDoc("datasets", required: false, "object", "Dataset name → dataset object (below)."),
        FieldDoc("defaults", required: false, "object",
                 "Parameter values applied to every stage whose kind has that parameter and does not set it."),
        FieldDoc("stages", required: true, "array", "The stages (below), in any order; they run in dependency order."),
        FieldDoc("executor", required: false, "object",
                 "How `run --executor slurm` submits this experiment's units: `{\"slurm\": {…}}` (below). Not part of any cache key; "
                 + "`--slurm-*` options override it."),
    ]

    /// The keys of `executor.slurm` (`SlurmOptions`); each string a value for its `sbatch` option.
    public static let slurm: [FieldDoc] = [
        FieldDoc("partition", required: false, "string", "`sbatch --partition`: the partition the units run on (it must exist)."),
        FieldDoc("time", required: false, "string", "`sbatch --time`: each unit's time limit (`30`, `2:00:00`, `1-00:00:00`)."),
        FieldDoc("mem", required: false, "string", "`sbatch --mem`: memory per unit (`8G`, `16000M`)."),
        FieldDoc("cpus_per_task", required: false, "integer", "`sbatch --cpus-per-task`: cores per unit (1–4096)."),
        FieldDoc("account", required: false, "string", "`sbatch --account`: the account charged."),
        FieldDoc("extra", required: false, "array of strings", "More `sbatch` arguments, passed as they are (`[\"--qos=debug\"]`)."),
    ]

    public static let model: [FieldDoc] = [
        FieldDoc("name", required: false, "string", "A named model; exactly one of `name` and `path`."),
        FieldDoc("path", required: false, "string", "Model file, relative to the manifest's directory."),
        FieldDoc("template", required: false, "string",
                 "Chat template overriding the model's own (e.g. `\"chatml\"`, `\"llama2-paper\"`)."),
        FieldDoc("weights", required: false, "string",
                 "How the engine holds the weights: `\"auto\"` (default: fp32 when the fp32 copy takes at most 2 GiB, "
                 + "else native), `\"native\"` (the GGUF's own encoding, read in place: about the file's size) or "
                 + "`\"fp32\"` (dequantized at load: 4 bytes a weight). Native results differ from fp32 in the last "
                 + "bits, so the resolved choice is part of every cache key when it is native."),
    ]

    /// The values `weights` takes.
    public static let weightsPolicies = WeightsPolicy.allCases.map(\.rawValue)

    public static let dataset: [FieldDoc] = [
        FieldDoc("dataset", required: false, "string",
                 "A dataset of the repository's `datasets/` by name (`\"gpt4_facts\"`), read from the mirror "
                 + "`reptune datasets` shows; exactly one of `dataset` and `path`. A plain string entry is a dataset name "
                 + "when it is one, else a path."),
        FieldDoc("file", required: false, "string",
                 "With `dataset`: the role of the file to read (`\"test a/b\"`); absent = the `data` file, the only file, "
                 + "or the folder holding all of them."),
        FieldDoc("path", required: false, "string", "Your own file or directory, relative to the manifest's directory."),
        FieldDoc("format", required: false, "string", "Loader hint: one of \(datasetFormats.map { "`\($0)`" }.joined(separator: ", ")); absent = from the file name."),
        FieldDoc("splits", required: false, "object", "Split name → split object (below); a stage names one as `\"dataset:split\"`."),
    ]

    public static let datasetFormats = ["csv", "txt", "jsonl", "raw", "dir"]

    public static let split: [FieldDoc] = [
        FieldDoc("rows", required: false, "[lo, hi]", "Rows lo..<hi (0-based, half-open)."),
        FieldDoc("indices", required: false, "array of integers", "Explicit row indices."),
        FieldDoc("file", required: false, "string", "File of row indices (JSON array or one integer per line)."),
    ]

    public static let stage: [FieldDoc] = [
        FieldDoc("id", required: true, "string", "Unique stage name (letters, digits, `_`, `-`, `.`); other stages' `inputs` refer to it."),
        FieldDoc("kind", required: true, "string", "One of \(StageKind.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", "))."),
        FieldDoc("description", required: false, "string", "Free text."),
        FieldDoc("params", required: false, "object", "The kind's parameters (tables below)."),
        FieldDoc("inputs", required: false, "object", "Input slot → stage id (or array of ids for slots taking several)."),
    ]

    /// `{"range": [lo, hi, step]}`: the one key of a range object.
    public static let rangeKey = "range"
    /// Upper bound on values one range expands to, and on a stage's sweep cells.
    public static let maxRangeValues = 10_000
    public static let maxCells = 100_000
    /// Declared ranges of integer parameters (`StageCatalog`): no value can overflow what is computed from it, and
    /// the model's own limits (`ModelLimit`) are checked once its header is read.
    public static let maxBlocks = 4096
    /// Tokens: beyond any model's context.
    public static let maxTokens = 1 << 20
    /// Prompts or statements per batch, streams.
    public static let maxBatch = 4096
    /// Epochs, warm-up, patience and other step counts.
    public static let maxSteps = 10_000_000
    /// The largest integer a JSON number carries exactly in every reader (2^53 − 1).
    public static let maxExactInteger = 9_007_199_254_740_991
}
