import Engine
import Experiments
import ModelFormats
import Pipeline

/// reptune's commands: each one's arguments, summary and option table, in the order the usage lists them.
public enum ReptuneCommands {
    static let model = CommandSpec.Argument("MODEL", optional: true,
        "a GGUF file or a Hugging Face model directory (default: $REPTUNE_MODEL, else models/SmolLM2-135M-Instruct.Q4_1.gguf)")
    static let results = CommandSpec.Argument("DIR", optional: true, completion: .directory,
        "the results directory (default: the only directory under runs/, else the working directory)")
    static let weights = Option("weights", .choice(WeightsPolicy.allCases.map(\.rawValue)), default: "auto",
        "how the weights are held: the file's own encoding (native), dequantized to fp32, or fp32 when that copy is at most 2 GiB (auto)")
    static let datasets = Option("datasets", .directory,
        "the dataset mirror (default: $REPTUNE_DATA, else ../shared/datasets, else ~/.cache/reptune/datasets)")
    static let tableFormat = Option("format", .choice(TableFormat.allCases.map(\.rawValue)), default: "table",
        "output format (--json is --format json)")

    /// The options `forward` and `generate` share: the prompt, its tokenization, steering and the weights.
    static let prompt: [Option] = [
        Option("prompt", .text, "the prompt, tokenized as it is (no chat template); give it or --chat"),
        Option("chat", .file, value: "FILE.json",
               "a JSON array of {\"role\": ..., \"content\": ...} messages, rendered with the chat template and the generation prompt"),
        Option("template", .choice(ChatTemplate.Format.allCases.map(\.rawValue)), value: "NAME",
               "the chat template for --chat (default: the model's own)"),
        Option("steer", .file, "a steering vector: a JSON array of floats or a llama.cpp control-vector GGUF"),
        Option("layer", .integer(0...(ManifestFields.maxBlocks - 1)), value: "L", "with --steer: the block whose output m·v is added to"),
        Option("mult", .number(nil), default: "1", value: "M", "with --steer: the multiplier m"),
        Option("positions", .choice(["all", "prompt", "generated"]), default: "all", "with --steer: the positions steered"),
        weights,
        Option("no-special", .flag, "read special-token text in the prompt as plain text"),
        Option("bos", .flag, "start with the BOS token even when the tokenizer does not add one"),
    ]

    /// How `run` and `resume` compute their cells: in this process, in worker processes, or as Slurm jobs.
    static let executorOptions: [Option] = [
        Option("executor", .choice(["local", "processes", "slurm"]), default: "local",
               "where cells are computed: this process (local), `reptune worker` processes here (processes), or Slurm jobs (slurm); the results directory must be on storage the nodes share"),
        Option("workers", .integer(1...4096), default: "2", value: "N", "worker processes at once (processes), or units a stage is split into at most (slurm: one array task each)"),
        Option("retries", .integer(1...100), default: "3", value: "N", "attempts a unit gets before its cells are failed (processes, slurm)"),
        Option("worker-wrapper", .file, value: "PROGRAM", "run each worker as PROGRAM REPTUNE worker … (processes, slurm): a script that enters a container or sets up a node, then runs \"$@\"; same path on every node"),
        Option("slurm-partition", .text, value: "NAME", "sbatch --partition (overrides the manifest's executor.slurm)"),
        Option("slurm-time", .text, value: "LIMIT", "sbatch --time, e.g. 2:00:00"),
        Option("slurm-mem", .text, value: "SIZE", "sbatch --mem, e.g. 8G"),
        Option("slurm-cpus", .integer(1...4096), value: "N", "sbatch --cpus-per-task"),
        Option("slurm-account", .text, value: "NAME", "sbatch --account"),
        Option("slurm-arg", .text, value: "ARG,...", "more sbatch arguments, passed as they are"),
    ]

    public static let all: [CommandSpec] = [
        CommandSpec("inspect", arguments: [model],
            summary: "architecture, tensor types and sizes, tokenizer, chat template (GGUF file or Hugging Face directory); --memory: the resident memory the engine will need, before loading anything",
            options: [
                Option("tensors", .flag, "list every tensor: name, type, shape, bytes"),
                Option("memory", .flag, "the memory plan of a generation (weights, KV cache, activations) instead"),
                weights,
                Option("batch", .integer(1...ManifestFields.maxBatch), default: "1", "with --memory: sequences generated together"),
                Option("context", .integer(1...ManifestFields.maxTokens), default: "512", "with --memory: tokens per sequence"),
                .json,
            ]),
        CommandSpec("tokenize", arguments: [model, .init("TEXT", completion: .none, "the text to tokenize")],
            summary: "token ids and pieces of TEXT (special tokens in the text recognised unless --no-special)",
            options: [
                Option("no-special", .flag, "read special-token text as plain text"),
                Option("bos", .flag, "start with the BOS token"),
                .json,
            ]),
        CommandSpec("forward", arguments: [model],
            summary: "one forward pass: ids, top-K logits of the last position, residual stream (output of block L) at the last position of each captured block",
            options: prompt + [
                Option("capture", .integers(0...(ManifestFields.maxBlocks - 1)), value: "L,...", "blocks whose output to show"),
                Option("top", .integer(0...(1 << 20)), default: "10", value: "K", "logits to show"),
                .json,
            ]),
        CommandSpec("generate", arguments: [model],
            summary: "generate a continuation (greedy unless --temperature > 0), optionally steered",
            options: prompt + [
                Option("max-tokens", .integer(1...ManifestFields.maxTokens), default: "64", "new tokens at most"),
                Option("temperature", .number(0...1000), default: "0", value: "T", "sampling temperature (0: greedy)"),
                Option("top-p", .number(0...1), default: "1", value: "P", "nucleus sampling mass (with --temperature)"),
                Option("seed", .integer(0...Int.max), default: "0", value: "S", "sampling seed (with --temperature)"),
                .json,
            ]),
        CommandSpec("bench", arguments: [model],
            summary: "prefill/decode tokens/s and a training step against cblas_sgemm and the read bandwidth measured in the same run, for native and fp32 weights with their ratios and generate's peak memory under each; --sweep adds the steering sweep with and without prefix reuse; --serve measures the server",
            options: [
                Option("weights", .choice(["native", "fp32", "both"]), default: "both",
                       "the weights policies to time (both: native and fp32, fp32 only if its copy fits in 3/4 of the available memory)"),
                Option("tuned-blocks", .integer(1...ManifestFields.maxBlocks), default: "7", "blocks trained in the training step"),
                Option("threads", .integer(1...1024), "BLAS threads (default: OpenBLAS's)"),
                Option("repeats", .integer(1...1_000_000), default: "3", "runs of each measurement (the best is kept)"),
                Option("sweep", .flag, "add the 5-layer × 6-multiplier steering sweep, with and without prefix reuse"),
                Option("sweep-prompts", .integer(1...100_000), default: "50", "prompts of the sweep"),
                Option("serve", .flag, "measure `reptune serve` instead: tokens/s at 1, 4 and 16 clients against the engine's own batched generate, time to first token at 16, steering overhead"),
                Option("serve-tokens", .integer(1...4096), default: "64", "with --serve: tokens each request generates"),
                Option("executors", .flag, "measure the executors' overheads instead: the coordinator's bundle ingest rate, a worker process's start, and (when sbatch is on PATH) Slurm's submit and submit-to-start times"),
                .json,
            ]),
        CommandSpec("serve", arguments: [model],
            summary: "an OpenAI-compatible HTTP server (chat and text completions, streamed or not) with per-request steering (\"steering\" in the body) and the tuned variants and vectors of a results directory",
            options: [
                Option("results", .directory, value: "DIR", "serve the vectors and tune stages of this results directory"),
                Option("host", .text, default: "127.0.0.1", value: "ADDRESS", "the IPv4 address to listen on (0.0.0.0: every interface)"),
                Option("port", .integer(0...65535), default: "8080", "the port (0: any free one, printed)"),
                Option("api-key", .text, value: "KEY", "require Authorization: Bearer KEY on every request (else 401)"),
                Option("max-batch", .integer(1...256), default: "16", value: "N", "sequences decoded together (≤ 32 keeps each greedy request's solo tokens)"),
                Option("max-tokens", .integer(1...ManifestFields.maxTokens), default: "512", value: "N", "most tokens one request may generate (a chat's default)"),
                Option("max-connections", .integer(1...4096), default: "256", value: "N", "open connections at most (503 beyond)"),
                weights,
            ]),
        CommandSpec("blas",
            summary: "the OpenBLAS build and the kernel set in use",
            options: [
                Option("core-type", .flag, "print the kernel set's name alone (for OPENBLAS_CORETYPE)"),
                .json,
            ]),
        CommandSpec("datasets",
            arguments: [.init("fetch|sources", optional: true, completion: .words(["fetch", "sources"]),
                              "fetch: copy or download the missing files, sha256-verified; sources: each file's download address and place in the mirror; neither: list the datasets and their status"),
                        .init("NAME|MANIFEST.json", optional: true, repeated: true,
                              "datasets by name, or the datasets a manifest names (default: all)")],
            summary: "the datasets and their status in the mirror (which mirror, and why); fetch fills it; sources lists where each file comes from",
            options: [
                datasets,
                Option("quick", .flag, "check that files are present without hashing them"),
                Option("timeout", .number(0.001...1_000_000), default: "30", value: "S", "fetch: seconds without a byte before a download is abandoned"),
                .json,
            ]),
        CommandSpec("run", arguments: [.init("MANIFEST", "the experiment manifest (JSON; docs/MANIFEST.md)")],
            summary: "run a manifest's stages as a DAG, reusing every cached stage; --dry-run prints the plan (each stage cached or to run, cells, memory and time); Ctrl-C stops soon, keeping finished cells and the saved progress of long ones",
            options: [
                Option("results", .directory, "the results directory (default: runs/NAME, NAME the manifest's name)"),
                Option("only", .text, value: "STAGE,...", "run only these stages and the ones they need"),
                Option("force", .text, value: "STAGE,...", "recompute these stages even when cached"),
                Option("dry-run", .flag, "print the plan and change nothing"),
                Option("jobs", .integer(1...64), default: "1", "stages run side by side"),
            ] + executorOptions + [
                datasets,
                .json,
            ]),
        CommandSpec("resume", arguments: [results],
            summary: "finish a run of a results directory: run N, else the latest that did not finish, else the latest; same manifest, finished cells kept; --dry-run prints the plan",
            options: [
                Option("run", .integer(1...Int.max), "the run to continue"),
                Option("dry-run", .flag, "print the plan and change nothing"),
                Option("jobs", .integer(1...64), default: "1", "stages run side by side"),
            ] + executorOptions + [
                datasets,
                .json,
            ]),
        CommandSpec("worker", arguments: [.init("DIR", completion: .directory, "the results directory (on storage the coordinator shares)"),
                                          .init("UNIT", optional: true, completion: .none,
                                                "STAGE_KEY[:CELLS] (e.g. :0-3,7; default every cell); with --array, units separated by ';', the one taken is $SLURM_ARRAY_TASK_ID's")],
            summary: "compute one unit of work of a results directory and write its result bundle (run by --executor processes|slurm; never writes the database)",
            options: [
                Option("array", .flag, "UNIT lists one unit per Slurm array task, separated by ';'"),
                Option("probe", .text, value: "TOKEN", "only answer the coordinator's probe: check that DIR/probe/TOKEN is visible here"),
                datasets,
            ]),
        CommandSpec("status", arguments: [results],
            summary: "the stages of the latest run: status, cells done/total, failures, ETA (a run whose process is gone shows as interrupted)"),
        CommandSpec("query", arguments: [results, .init("SQL", completion: .none, "one read-only statement")],
            summary: "read-only SQL over the store's documented v_* views (docs/RESULTS.md); stops at --timeout or Ctrl-C",
            options: [
                tableFormat,
                Option("timeout", .number(0.001...1e9), value: "S", "seconds before the query is stopped"),
                .json,
            ]),
        CommandSpec("results", arguments: [results],
            summary: "one stage's cells and metrics",
            options: [
                Option("stage", .text, value: "ID", required: true, "the stage"),
                tableFormat,
                .json,
            ]),
        CommandSpec("report", arguments: [results],
            summary: "tables (Markdown, CSV, LaTeX, HTML, JSON) and SVG plots of the latest run, from the store alone (deterministic)",
            options: [
                Option("format", .choices(ReportFormat.allCases.map(\.rawValue)), default: "md,csv,html,svg", "the formats to write"),
                Option("out", .directory, "the folder written (default: DIR/report)"),
                Option("title", .text, "the report's title"),
                Option("run", .integer(1...Int.max), value: "N", "the run to report (default: the latest)"),
                .json,
            ]),
        CommandSpec("export", arguments: [results],
            summary: "a tune stage's tuned model as a standalone GGUF (base metadata and tokenizer, tuned tensors in F32), or a vectors stage's directions as a llama.cpp control-vector GGUF (blocks 1 and up: llama.cpp refuses direction.0)",
            options: [
                Option("stage", .text, value: "ID", required: true, "the tune or vectors stage"),
                Option("cell", .integer(0...Int(Int32.max)), default: "0", value: "N", "the stage's cell"),
                Option("out", .file, value: "FILE.gguf", required: true, "the file to write"),
                Option("model", .file, value: "BASE.gguf", "the base model of a tune stage (default: the run's manifest's)"),
                Option("layers", .integers(0...(ManifestFields.maxBlocks - 1)), value: "L,...", "vectors: the blocks whose directions to write"),
                .json,
            ]),
        CommandSpec("gc", arguments: [results],
            summary: "forget superseded results and delete the artifact files nothing references (kept: the stages of each manifest's latest run)",
            options: [Option("keep-all-runs", .flag, "keep the artifacts of every run, not only the latest of each manifest")]),
        CommandSpec("pack", arguments: [results],
            summary: "a self-contained copy of a results directory to commit or send (artifacts over N MiB left out: a stage that needs one recomputes its producer)",
            options: [
                Option("out", .directory, required: true, "the pack's folder: new, empty or an earlier pack"),
                Option("max-artifact-mib", .number(0...1_000_000_000), default: "16", value: "N", "largest artifact kept, in MiB"),
            ]),
        CommandSpec("help", arguments: [.init("COMMAND", optional: true, completion: .commands, "a command")],
            summary: "the usage of reptune, or of one command"),
        CommandSpec("completion", arguments: [.init("SHELL", completion: .words(["bash", "zsh"]), "bash or zsh")],
            summary: "a completion script: `source <(reptune completion bash)` in ~/.bashrc, `source <(reptune completion zsh)` in ~/.zshrc"),
    ]

    public static func named(_ name: String) -> CommandSpec? { all.first { $0.name == name } }
}
