/// CAA's normalisation across behaviours (`normalize_vectors.py`): at each layer, every behaviour's vector is
/// rescaled to the mean of the behaviours' norms at that layer, so one multiplier means the same strength for all.
public enum BehaviourNormalisation {
    /// Each behaviour's vector (one layer) rescaled to the mean norm of all of them. A zero vector stays zero.
    public static func normalised(_ vectors: [String: [Float]]) -> [String: [Float]] {
        guard !vectors.isEmpty else { return vectors }
        let norms = vectors.mapValues { v in v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        let mean = norms.values.reduce(0, +) / Double(norms.count)
        var out: [String: [Float]] = [:]
        for (behaviour, v) in vectors {
            let norm = norms[behaviour]!
            out[behaviour] = norm == 0 ? v : v.map { Float(Double($0) * mean / norm) }
        }
        return out
    }
}
