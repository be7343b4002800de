import Foundation
import Pipeline

/// Manifests used across the Pipeline tests.
enum Samples {
    /// A complete, valid manifest using every stage kind (files not checked).
    static let full = """
    {
      "name": "honesty-small",
      "model": {"path": "model.gguf", "template": "chatml"},
      "datasets": {
        "facts": {"path": "facts.csv", "splits": {"train": {"rows": [0, 488]}, "val": {"indices": [488, 489, 490]}}},
        "tqa": {"path": "tqa.csv"},
        "wiki": "wiki.raw"
      },
      "defaults": {"max_new_tokens": 20},
      "stages": [
        {"id": "acts", "kind": "collect_activations",
         "params": {"dataset": "facts:train", "layers": {"range": [10, 14]}, "positions": ["last", -7]}},
        {"id": "honesty_vec", "kind": "vectors", "params": {"method": "pca", "component": 2},
         "inputs": {"activations": "acts"}},
        {"id": "sweep", "kind": "steering_sweep",
         "params": {"layers": [10, 12, 14], "multipliers": {"range": [-20, 20, 5]}, "include_zero_out": true,
                    "dataset": "tqa", "task": "tqa"},
         "inputs": {"vector": "honesty_vec"}},
        {"id": "tuned", "kind": "tune",
         "params": {"objective": "honesty", "dataset": "facts:train", "validation": "facts:val",
                    "layers": [11, 12, 13], "lr_vo": [1e-5, 2e-5]},
         "inputs": {"vector": "honesty_vec"}},
        {"id": "eval_tuned", "kind": "evaluate", "params": {"task": "facts", "dataset": "facts", "variant": "tuned"},
         "inputs": {"tuned": "tuned"}},
        {"id": "eval_steered", "kind": "evaluate",
         "params": {"task": "open_ended", "dataset": "tqa", "variant": "steered", "layer": 12, "multiplier": 19},
         "inputs": {"vector": "honesty_vec"}},
        {"id": "judged", "kind": "judge", "inputs": {"a": "eval_tuned", "b": "eval_steered"}},
        {"id": "ppl", "kind": "perplexity", "params": {"dataset": "wiki", "max_tokens": 4096}},
        {"id": "topic", "kind": "actadd_topic",
         "params": {"plus": " weddings", "leading_token": "<|endoftext|>", "prompts": "tqa", "layers": [10, 12], "coefficients": [4]}},
        {"id": "report", "kind": "report", "params": {"formats": ["md", "csv"]},
         "inputs": {"from": ["sweep", "eval_tuned", "judged", "ppl"]}}
      ]
    }
    """

    /// The CAA kinds: vectors per behaviour, a validation layer sweep, the multiplier sweep at the chosen layer.
    static let caa = """
    {
      "name": "caa-small",
      "model": {"path": "model.gguf"},
      "datasets": {"sycophancy.gen": "gen.json", "sycophancy.ab": {"path": "ab.json", "splits": {"val": {"rows": [0, 25]}}}},
      "stages": [
        {"id": "vecs", "kind": "caa_vectors", "params": {"generate": ["sycophancy.gen"], "layers": [10, 12], "max_items": 100}},
        {"id": "val", "kind": "caa_ab_sweep", "params": {"behaviours": ["sycophancy.ab:val"], "layers": [10, 12], "multipliers": [-1, 1]},
         "inputs": {"vectors": "vecs"}},
        {"id": "best", "kind": "caa_ab_sweep", "params": {"behaviours": "sycophancy.ab", "multipliers": [-2, 0, 2], "system_prompt": ["none", "pos"]},
         "inputs": {"vectors": "vecs", "select": "val"}},
        {"id": "open", "kind": "caa_open_ended", "params": {"behaviours": "sycophancy.gen", "layers": [10], "multipliers": [-2, 2], "neutral": "sycophancy.gen"},
         "inputs": {"vectors": "vecs"}},
        {"id": "cast", "kind": "caa_conditional", "inputs": {"vectors": "vecs"},
         "params": {"steer": [{"vector": "sycophancy", "layers": [10, 12], "positions": "last", "multiplier": 2}], "condition_layer": [4, 8],
                    "should_steer": ["sycophancy.ab"], "should_not_steer": ["sycophancy.gen"], "thresholds": [0, 0.5], "test_split": "val"}}
      ]
    }
    """

    static let noFiles = ManifestOptions(checkFiles: false)

    /// Decodes, returning the errors (empty on success).
    static func errors(_ text: String, options: ManifestOptions = noFiles) -> [ManifestError] {
        do {
            _ = try Manifest.decode(text, baseDirectory: URL(fileURLWithPath: "/nonexistent"), options: options)
            return []
        } catch {
            return error.errors
        }
    }

    static func decode(_ text: String, options: ManifestOptions = noFiles) throws -> Manifest {
        try Manifest.decode(text, baseDirectory: URL(fileURLWithPath: "/nonexistent"), options: options)
    }

    /// `full` with one textual replacement (which must apply).
    static func full(replacing old: String, with new: String) -> String {
        precondition(full.contains(old), "sample does not contain \(old)")
        return full.replacingOccurrences(of: old, with: new)
    }
}
