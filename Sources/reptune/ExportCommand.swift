import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune export RESULTS_DIR --stage ID [--cell N] --out FILE.gguf [--model BASE.gguf]`: a `tune` stage's
/// variant merged with its base model into one standalone GGUF that `reptune generate FILE.gguf` loads, or a
/// `vectors` stage's directions as the llama.cpp control-vector GGUF (`--steer FILE` and llama.cpp's
/// `--control-vector` read it).
enum ExportCommand {
    static let spec = Arguments.Spec(
        usage: "export [DIR] --stage ID [--cell N] --out FILE.gguf [--model BASE.gguf]",
        summary: "write a tune stage's tuned model as a standalone GGUF (base metadata and tokenizer, tuned tensors in F32), or a vectors stage's control-vector GGUF",
        valued: ["stage", "cell", "out", "model"])

    struct Output: Encodable {
        var file: String
        var base: String
        var stage: String
        var cell: Int
        var tensorsReplaced: Int
    }

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard let stageID = a.options["stage"] else { throw CLIError("give the tune stage with --stage ID") }
        guard let out = a.options["out"] else { throw CLIError("give the output file with --out FILE.gguf") }
        let index = try a.int("cell") ?? 0
        let store = try Store(readOnlyDirectory: StoreCommands.directory(a, consumes: 0))
        let results = try StageResults.load(store, stageID: stageID)
        guard let cell = results.cells.first(where: { $0.index == index }) else {
            throw CLIError("stage \(stageID) has no stored cell \(index) (stored cells: \(results.cells.map(\.index)))", exitCode: 1)
        }
        if let vectors = cell.artifacts[StageArtifact.vectors] {
            let file = try ControlVectorFile(contentsOf: store.artifactURL(vectors))
            let outURL = URL(fileURLWithPath: out)
            try AtomicFile.write(try store.readArtifact(vectors), to: outURL)
            if a.flags.contains("json") {
                return try printJSON(Output(file: outURL.path, base: "", stage: stageID, cell: index, tensorsReplaced: file.directions.count))
            }
            print("wrote \(outURL.path): control vector with directions for blocks \(file.directions.keys.sorted().map(String.init).joined(separator: ", "))")
            return
        }
        guard let ref = cell.artifacts[StageArtifact.variant] else {
            throw CLIError("cell \(index) of stage \(stageID) has neither a `\(StageArtifact.variant)` nor a `\(StageArtifact.vectors)` artifact: is it a finished tune or vectors stage?", exitCode: 1)
        }
        let variant = try GGUFFile(contentsOf: store.artifactURL(ref))
        let baseURL = try a.options["model"].map { URL(fileURLWithPath: $0) } ?? manifestModel(store)
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
        if a.flags.contains("json") {
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
