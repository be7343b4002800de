import Pipeline

/// A valid manifest exercising every stage kind.
let validManifestText = """
{
  "name": "honesty-smollm",
  "model": {"name": "smollm2-135m", "template": "chatml"},
  "datasets": {
    "pairs": {"name": "true_false_facts", "split": "train", "limit": 256},
    "wiki": {"name": "wikitext-2", "split": "test"}
  },
  "defaults": {"max_new_tokens": 32},
  "stages": [
    {"id": "acts", "kind": "collect_activations", "params": {"dataset": "pairs", "layers": {"range": [4, 20, 4]}}},
    {"id": "vec", "kind": "vectors", "params": {"method": "pca"}, "inputs": {"activations": "acts"}},
    {"id": "sweep", "kind": "steering_sweep",
     "params": {"dataset": "pairs", "layers": [6, 8], "multipliers": {"range": [-2, 2, 1]}},
     "inputs": {"vectors": "vec"}},
    {"id": "tuned", "kind": "tune", "params": {"kind": "honesty", "layers": [8]}, "inputs": {"vectors": "vec"}},
    {"id": "eval", "kind": "evaluate", "params": {"task": "tqa", "dataset": "pairs"}, "inputs": {"model": "tuned"}},
    {"id": "grade", "kind": "judge", "params": {"backend": "local"}, "inputs": {"outputs": "eval"}},
    {"id": "ppl", "kind": "perplexity", "params": {"dataset": "wiki"}, "inputs": {"model": "tuned"}},
    {"id": "summary", "kind": "report", "params": {"formats": ["markdown", "csv"]}, "inputs": {"sweep": "sweep", "grade": "grade", "ppl": "ppl"}}
  ]
}
"""

/// The validation messages for `text`, or ["ok"] when it is valid.
func messages(_ text: String) -> [String] {
    do {
        _ = try Manifest.parse(text)
        return ["ok"]
    } catch {
        return error.messages
    }
}

/// A one-stage manifest text around the given stages JSON.
func manifest(stages: String, extra: String = "") -> String {
    """
    {"name": "t", \(extra) "datasets": {"d": {"name": "ds"}}, "stages": \(stages)}
    """
}
