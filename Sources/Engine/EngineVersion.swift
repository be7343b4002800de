/// The engine's numeric version: part of every stage's cache key, bumped whenever a change to the engine can
/// change a computed number (so cached results from an older engine are recomputed).
public enum EngineVersion {
    public static let current = 2  // 2: causal-chunked long-prompt attention (rounding-level changes)
}
