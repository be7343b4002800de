import Experiments
import Foundation

/// Locations of the files tests read: the repository, `../shared` beside it, the dataset mirror, and the fetched
/// default model.
public enum Fixtures {
    /// The repository root (the directory holding Package.swift).
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/TestSupport/Fixtures.swift
        return url
    }()

    /// `../shared` next to the repository: method, datasets and reference outputs (read-only).
    public static let shared: URL = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")

    /// Reference outputs of an independent implementation on the default model.
    public static let reference: URL = shared.appendingPathComponent("reference/smollm2-135m-q4_1")

    /// The dataset mirror, found as `reptune` finds it: `$REPTUNE_DATA`, else `../shared/datasets`, else the per-user
    /// cache that `make test` fills with `reptune datasets fetch` (the files verify against the descriptors, so
    /// they are the bytes of `../shared/datasets`).
    public static let mirror = DatasetMirror.locate(option: nil, environment: ProcessInfo.processInfo.environment,
                                                    repository: repoRoot)
    public static var datasets: URL { mirror.root }

    /// The datasets the tests read: the paper's (what `experiments/paper-honesty.json` and
    /// `experiments/rescore-paper.json` name, the ones `make test` fetches).
    public static let paperDatasets = ["facts_true_false", "gpt4_facts", "instrumental_lying", "morally_ambiguous",
                                       "representation_tuning_outputs", "truthfulqa", "wikitext2_test"]

    /// Whether every file of the paper's datasets is in the mirror (by path; loaders verify the contents).
    public static let hasPaperData: Bool = {
        guard let catalog = try? DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: repoRoot)) else { return false }
        return paperDatasets.allSatisfy { name in
            (try? catalog.descriptor(named: name))?.files.allSatisfy { mirror.status(of: $0, verify: false) != .missing } ?? false
        }
    }()

    /// The default model, fetched by `make setup`.
    public static let defaultModel: URL = repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")

    public static var hasModel: Bool { FileManager.default.fileExists(atPath: defaultModel.path) }

    /// Qwen2.5-Coder-0.5B-Instruct (q5_0/q8_0/q4_K/q6_K), fetched by `make test` (`make model MODEL=qwen2.5-coder-0.5b-instruct`).
    public static let qwenModel: URL = repoRoot.appendingPathComponent("models/Qwen2.5-Coder-0.5B-Instruct.gguf")
    /// Reference outputs of Hugging Face transformers on that model.
    public static let qwenReference: URL = shared.appendingPathComponent("reference/qwen2.5-coder-0.5b-instruct")
    public static var hasQwen: Bool {
        FileManager.default.fileExists(atPath: qwenModel.path) && FileManager.default.fileExists(atPath: qwenReference.path)
    }
    public static let noQwen: Comment = "SKIPPED: models/Qwen2.5-Coder-0.5B-Instruct.gguf or ../shared/reference/qwen2.5-coder-0.5b-instruct is missing — run `make model MODEL=qwen2.5-coder-0.5b-instruct` (make test does)"
    public static var hasShared: Bool { FileManager.default.fileExists(atPath: reference.path) }

    /// Reason shown when a test is skipped because the model is absent.
    public static let noModel: Comment = "SKIPPED: models/SmolLM2-135M-Instruct.Q4_1.gguf is missing — run `make setup`"
    public static let noShared: Comment = "SKIPPED: ../shared/reference is missing next to the repository"
    /// Reason shown when a test is skipped because the paper's datasets are not in the mirror.
    public static let noPaperData = Comment(rawValue:
        "SKIPPED: the paper's datasets are not all in the mirror \(mirror.root.path) (chosen by \(mirror.origin)); "
        + "`make test` fetches them when it can (`reptune datasets fetch experiments/paper-honesty.json experiments/rescore-paper.json`)")

    /// A fresh temporary directory, removed by the caller when done.
    public static func temporaryDirectory(_ label: String = "reptune-test") throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Reads a raw little-endian float32 file.
    public static func readF32(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            Array(raw.bindMemory(to: Float.self))
        }
    }
}

public typealias Comment = Testing.Comment
import Testing

/// Runs the built `reptune` executable as a subprocess.
public enum CLI {
    /// The `reptune` binary next to the test bundle (same build configuration).
    public static let executable: URL? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("reptune")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        for config in ["release", "debug"] {
            let c = Fixtures.repoRoot.appendingPathComponent(".build/\(config)/reptune")
            if FileManager.default.isExecutableFile(atPath: c.path) { return c }
        }
        return nil
    }()

    public static let missing: Comment = "SKIPPED: the reptune executable is not built next to the tests (run `swift build`)"

    /// Exit status, stdout and stderr of `reptune args...` run in `directory` (default: the repository), with
    /// `environment` added to this process's and the variables named in `unset` removed.
    public static func run(_ args: [String], environment: [String: String] = [:], unset: [String] = [],
                           directory: URL = Fixtures.repoRoot) throws -> (status: Int32, stdout: String, stderr: String) {
        guard let exe = executable else { throw CocoaError(.fileNoSuchFile) }
        return try run(executable: exe, args, environment: environment, unset: unset, directory: directory)
    }

    /// The same for any executable (`curl`, a virtualenv's `python`, `scripts/slurm-local.sh`).
    public static func run(executable exe: URL, _ args: [String], environment: [String: String] = [:], unset: [String] = [],
                           directory: URL = Fixtures.repoRoot) throws -> (status: Int32, stdout: String, stderr: String) {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        for k in unset { env[k] = nil }
        let child = try ChildProcess(exe, args, environment: env, directory: directory)
        let end = child.wait(timeout: .infinity)
        return (end.status, end.stdout, end.stderr)
    }
}

extension CLI {
    /// How a bounded run of the executable ended.
    public typealias Outcome = ChildProcess.End

    /// Runs `reptune args...` in `directory` (default: the repository) for at most `timeout` seconds (then
    /// SIGKILL), with `signal` sent after `signalAfter` seconds when given (e.g. SIGINT, as Ctrl-C).
    public static func run(_ args: [String], timeout: TimeInterval, signal: Int32? = nil, signalAfter: TimeInterval = 0,
                           environment: [String: String] = [:], directory: URL = Fixtures.repoRoot) throws -> Outcome {
        guard let exe = executable else { throw CocoaError(.fileNoSuchFile) }
        let child = try ChildProcess(exe, args, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                     directory: directory)
        return child.wait(timeout: timeout, signal: signal.map { ($0, signalAfter) })
    }
}

/// A deterministic generator (SplitMix64) for property tests, so a failure reproduces from its seed.
public struct SplitMix: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
