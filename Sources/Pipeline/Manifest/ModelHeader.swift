import Engine
import Foundation
import ModelFormats

/// What planning needs to know of a model without loading its weights: its hyperparameters (block count,
/// residual width, context length), read from a GGUF's header or a Hugging Face directory's `config.json`.
public enum ModelHeader {
    /// The hyperparameters of the model at `url` (a GGUF file or a Hugging Face directory).
    public static func config(of url: URL) throws -> ModelConfig {
        switch try InputFile.check(url, what: "model", directoryAllowed: true) {
        case .directory:
            return try ModelConfig(huggingFaceConfig: url.appendingPathComponent("config.json"))
        default:
            if let problem = SafeTensorsFile.bareFileProblem(url) { throw ModelLoadError(file: url.path, problem) }
            return try ModelConfig(gguf: GGUFFile(contentsOf: url))
        }
    }
}
