import CommandLineSpec
import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune export RESULTS_DIR --stage ID [--cell N] --out FILE.gguf [--model BASE.gguf]`: a `tune` stage's
/// variant merged with its base model into one standalone GGUF that `reptune generate FILE.gguf` loads, or a
/// `vectors` stage's directions as a control-vector GGUF llama.cpp loads (`--control-vector`; `--steer FILE` reads
/// it too): block 0's direction is left out, since llama.cpp numbers directions from 1 and refuses a file with
/// `direction.0`; `--layers` picks directions.
enum ExportCommand {
    struct Output: Encodable {
        var file: String
        var base: String
        var stage: String
        var cell: Int
        var tensorsReplaced: Int
        /// Blocks whose direction was left out (block 0: llama.cpp refuses it).
        var leftOut: [Int]? = nil
    }

    static func run(_ a: ParsedArguments) throws {
        let stageID = a.string("stage")!, out = a.string("out")!   // both required
        let index = a.int("cell") ?? 0
        let store = try Store(readOnlyDirectory: StoreCommands.directory(a, consumes: 0))
        let results = try StageResults.load(store, stageID: stageID)
        guard let cell = results.cells.first(where: { $0.index == index }) else {
            throw CLIError("stage \(stageID) has no stored cell \(index) (stored cells: \(results.cells.map(\.index)))", exitCode: 1)
        }
        if let vectors = cell.artifacts[StageArtifact.vectors] {
            _ = try store.readArtifact(vectors)   // size and sha256 checked
            let stored = try ControlVectorFile(contentsOf: store.artifactURL(vectors))
            let exported: (file: ControlVectorFile, skipped: [Int])
            do {
                exported = try stored.forLlamaCpp(layers: a.ints("layers"))
            } catch let error as ControlVectorExportError {
                throw CLIError("--layers: \(error)", exitCode: 1)
            }
            let outURL = URL(fileURLWithPath: out)
            try exported.file.write(to: outURL, layerCount: exported.file.directions.count)
            if a.json {
                return try printJSON(Output(file: outURL.path, base: "", stage: stageID, cell: index,
                                            tensorsReplaced: exported.file.directions.count, leftOut: exported.skipped))
            }
            print("wrote \(outURL.path): llama.cpp control vector with directions for blocks \(exported.file.directions.keys.sorted().map(String.init).joined(separator: ", "))")
            if !exported.skipped.isEmpty {
                print("left out block 0's direction: llama.cpp numbers control-vector directions from 1 and never steers block 0's output (it refuses a file holding direction.0)")
            }
            return
        }
        if a.isGiven("layers") { throw CLIError("--layers applies to a vectors stage; \(stageID) is not one") }
        guard let ref = cell.artifacts[StageArtifact.variant] else {
            throw CLIError("cell \(index) of stage \(stageID) has neither a `\(StageArtifact.variant)` nor a `\(StageArtifact.vectors)` artifact: is it a finished tune or vectors stage?", exitCode: 1)
        }
        let variant = try GGUFFile(contentsOf: store.artifactURL(ref))
        let baseURL = try a.string("model").map { URL(fileURLWithPath: $0) } ?? manifestModel(store)
        if let expected = variant.metadata["reptune.base_sha256"]?.string {
            let found = try SHA256.hex(ofFileAt: baseURL)
            guard found == expected else {
                throw CLIError("\(baseURL.path) has sha256 \(found), but the variant was tuned from a model with sha256 \(expected); pass the right one with --model", exitCode: 1)
            }
        }
        let base = try GGUFFile(contentsOf: baseURL)
        let outURL = URL(fileURLWithPath: out)
        try VariantExport.write(base: base, variant: variant, to: outURL, extraMetadata: [
            ("reptune.tuned_stage", .string(stageID)), ("reptune.tuned_cell", .int32(Int32(index))),
            ("reptune.variant_sha256", .string(ref.sha256)),
        ])
        if a.json {
            return try printJSON(Output(file: outURL.path, base: baseURL.path, stage: stageID, cell: index,
                                        tensorsReplaced: variant.tensors.count))
        }
        print("wrote \(outURL.path): \(baseURL.lastPathComponent) with \(variant.tensors.count) tuned tensors from \(stageID) cell \(index)")
    }

    /// The model of the latest run's manifest (paths resolve against the manifest's directory as `run` did).
    static func manifestModel(_ store: Store) throws -> URL {
        guard let run = try store.latestRun() else {
            throw CLIError("the results directory has no runs; pass the base model with --model", exitCode: 1)
        }
        var options = try RunCommand.manifestOptions(datasets: nil)
        options.checkFiles = false
        let manifest = try Manifest.decode(run.manifestText, baseDirectory: URL(fileURLWithPath: run.baseDirectory),
                                           options: options)
        return manifest.model.url
    }
}
