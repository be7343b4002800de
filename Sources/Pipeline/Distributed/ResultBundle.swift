import Foundation
import ModelFormats

/// What a worker computed for one unit, as one file the coordinator ingests: the unit (stage key and cells), each
/// finished cell's result (metrics, outputs, generations, artifact references), each failed cell's error, and when
/// and where the worker ran. The file is a header line — `reptune-bundle 1 <stage key> <cells> <bytes> <sha256>` —
/// and the canonical JSON of the rest, whose length and digest the header names: a truncated file, a file of
/// another unit, or one edited after it was written is refused before anything is read from it.
public struct ResultBundle: Sendable {
    public var unit: WorkUnit
    public var results: [(cell: SweepCell, result: CellResult)]
    public var failures: [(cell: Int, error: String)]
    public var worker: WorkerStamp

    public init(unit: WorkUnit, results: [(cell: SweepCell, result: CellResult)], failures: [(cell: Int, error: String)],
                worker: WorkerStamp) {
        self.unit = unit
        self.results = results
        self.failures = failures
        self.worker = worker
    }

    static let magic = "reptune-bundle"
    static let version = 1

    /// The file's bytes.
    public func encoded() -> Data {
        let body = CanonicalJSON.encode(json)
        let header = "\(Self.magic) \(Self.version) \(unit.stageKey) \(unit.cellList) \(body.utf8.count) \(Hashing.sha256Hex(body))\n"
        return Data((header + body).utf8)
    }

    /// Writes the bundle to its place in `directory` (temporary name, then rename).
    public func write(in directory: URL) throws {
        let url = unit.bundleURL(in: directory)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(encoded(), to: url)
    }

    /// Reads the bundle at `url`, which must be the result of `expected`.
    public static func read(_ url: URL, expected: WorkUnit) throws -> ResultBundle {
        let data = try InputFile.read(url, what: "result bundle", maxBytes: 1 << 30)
        return try decode(data, path: url.path, expected: expected)
    }

    static func decode(_ data: Data, path: String, expected: WorkUnit) throws -> ResultBundle {
        func bad(_ why: String) -> ResultBundleError { ResultBundleError("result bundle \(path): \(why); nothing was ingested") }
        guard let newline = data.firstIndex(of: 0x0A) else { throw bad("no header line (the file is empty or truncated)") }
        let header = String(decoding: data[data.startIndex..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        guard header.count == 6, header[0] == magic else { throw bad("not a reptune result bundle (its first line is not `\(magic) …`)") }
        guard header[1] == String(version) else { throw bad("bundle format \(header[1]), this reptune reads \(version)") }
        guard header[2] == expected.stageKey, header[3] == expected.cellList else {
            throw bad("it holds unit \(header[2]):\(header[3]), expected \(expected)")
        }
        let body = data[data.index(after: newline)...]
        guard let length = Int(header[4]), body.count == length else {
            throw bad("truncated or extended: its header announces \(header[4]) bytes of results, the file holds \(body.count)")
        }
        let text = String(decoding: body, as: UTF8.self)
        guard Hashing.sha256Hex(text) == header[5] else {
            throw bad("its results do not match the sha256 its header names (\(header[5])): corrupt or edited")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch { throw bad("its results are not valid JSON: \(error)") }
        return try ResultBundle(json: json, unit: expected, bad: bad)
    }

    var json: JSONValue {
        .object([
            JSONMember(key: "stage_key", value: .string(unit.stageKey)),
            JSONMember(key: "cells", value: .array(unit.cells.map(JSONValue.int))),
            JSONMember(key: "results", value: .array(results.map { r in
                .object([JSONMember(key: "cell", value: .int(r.cell.index)),
                         JSONMember(key: "coordinates", value: .object(r.cell.coordinates)),
                         JSONMember(key: "result", value: r.result.bundleJSON)])
            })),
            JSONMember(key: "failures", value: .array(failures.map {
                .object([JSONMember(key: "cell", value: .int($0.cell)), JSONMember(key: "error", value: .string($0.error))])
            })),
            JSONMember(key: "worker", value: worker.json),
        ])
    }

    init(json: JSONValue, unit: WorkUnit, bad: (String) -> ResultBundleError) throws {
        self.unit = unit
        guard json["stage_key"]?.stringValue == unit.stageKey,
              json["cells"]?.arrayValue?.compactMap(\.intValue) == unit.cells else { throw bad("its results name another unit than its header") }
        let allowed = Set(unit.cells)
        results = try (json["results"]?.arrayValue ?? []).map { r in
            guard let index = r["cell"]?.intValue, allowed.contains(index), let result = r["result"].flatMap(CellResult.init(bundleJSON:)) else {
                throw bad("a result is malformed or names a cell outside the unit")
            }
            return (SweepCell(index: index, coordinates: r["coordinates"]?.objectValue ?? []), result)
        }
        failures = try (json["failures"]?.arrayValue ?? []).map { f in
            guard let index = f["cell"]?.intValue, allowed.contains(index), let error = f["error"]?.stringValue else {
                throw bad("a failure is malformed or names a cell outside the unit")
            }
            return (index, error)
        }
        worker = WorkerStamp(json: json["worker"] ?? .object([]))
    }
}

/// Where and when a worker ran its unit (for `reptune status` and the overhead measurements of docs/SCALING.md).
public struct WorkerStamp: Sendable, Hashable {
    public var host: String
    public var pid: Int
    /// The Slurm job (`<job>` or `<array job>_<task>`) when the worker ran under Slurm.
    public var slurmJob: String?
    /// Wall-clock seconds since 1970 when the worker process started and when it wrote the bundle.
    public var startedAt: Double
    public var finishedAt: Double

    public init(host: String, pid: Int, slurmJob: String?, startedAt: Double, finishedAt: Double) {
        self.host = host
        self.pid = pid
        self.slurmJob = slurmJob
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    var json: JSONValue {
        .object([JSONMember(key: "host", value: .string(host)), JSONMember(key: "pid", value: .int(pid)),
                 JSONMember(key: "slurm_job", value: slurmJob.map(JSONValue.string) ?? .null),
                 JSONMember(key: "started_at", value: .double(startedAt)), JSONMember(key: "finished_at", value: .double(finishedAt))])
    }

    init(json: JSONValue) {
        host = json["host"]?.stringValue ?? ""
        pid = json["pid"]?.intValue ?? 0
        slurmJob = json["slurm_job"]?.stringValue
        startedAt = json["started_at"]?.doubleValue ?? 0
        finishedAt = json["finished_at"]?.doubleValue ?? 0
    }
}

/// A result bundle that cannot be ingested (truncated, corrupt, of another unit, artifacts missing).
public struct ResultBundleError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension CellResult {
    /// The result as bundle JSON; numbers keep every bit (shortest round-trip spelling), a non-finite metric is null
    /// as in the store.
    var bundleJSON: JSONValue {
        .object([
            JSONMember(key: "metrics", value: .object(metrics.map { JSONMember(key: $0.key, value: $0.value.isFinite ? .double($0.value) : .null) })),
            JSONMember(key: "outputs", value: outputs),
            JSONMember(key: "artifacts", value: .object(artifacts.map {
                JSONMember(key: $0.key, value: .object([JSONMember(key: "sha256", value: .string($0.value.sha256)),
                                                        JSONMember(key: "bytes", value: .int($0.value.bytes)),
                                                        JSONMember(key: "path", value: .string($0.value.path))]))
            })),
            JSONMember(key: "generations", value: .array(generations.map { g in
                var members = [JSONMember(key: "item", value: .int(g.item)), JSONMember(key: "prompt", value: .string(g.prompt)),
                               JSONMember(key: "output", value: .string(g.output))]
                if let score = g.score { members.append(JSONMember(key: "score", value: score.isFinite ? .double(score) : .null)) }
                if let meta = g.meta { members.append(JSONMember(key: "meta", value: meta)) }
                return .object(members)
            })),
        ])
    }

    init?(bundleJSON json: JSONValue) {
        guard let metrics = json["metrics"]?.objectValue, let artifacts = json["artifacts"]?.objectValue,
              let generations = json["generations"]?.arrayValue else { return nil }
        var refs: [String: ArtifactRef] = [:]
        for a in artifacts {
            guard let sha = a.value["sha256"]?.stringValue, let bytes = a.value["bytes"]?.intValue,
                  let path = a.value["path"]?.stringValue, path == "artifacts/\(sha.prefix(2))/\(sha)" else { return nil }
            refs[a.key] = ArtifactRef(sha256: sha, bytes: bytes, path: path)
        }
        var gens: [Generation] = []
        for g in generations {
            guard let item = g["item"]?.intValue, let prompt = g["prompt"]?.stringValue, let output = g["output"]?.stringValue else { return nil }
            let score: Double? = g["score"].map { $0.doubleValue ?? .nan }
            gens.append(Generation(item: item, prompt: prompt, output: output, score: score, meta: g["meta"]))
        }
        self.init(metrics: Dictionary(uniqueKeysWithValues: metrics.map { ($0.key, $0.value.doubleValue ?? .nan) }),
                  outputs: json["outputs"] ?? .object([]), artifacts: refs, generations: gens)
    }
}
