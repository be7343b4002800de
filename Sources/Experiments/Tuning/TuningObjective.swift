import Engine

/// What a representation-tuning run optimises (METHOD.md §5); the `objective` parameter of a `tune` stage.
public enum TuningObjective: String, Sendable, Codable, CaseIterable {
    /// "Truth-tuned": cross-entropy of the honest completion letter (A for a true statement, B for a false one).
    case truth
    /// "Lie-tuned": cross-entropy of the swapped letter.
    case lie
    /// "Honesty-tuned": honest letters, CE/100 plus the mean over loss layers of (1 − cos(h, +v))/2.
    case honesty
    /// "Dishonesty-tuned": swapped letters, CE/100 plus the mean over loss layers of (1 − cos(h, −v))/2.
    case dishonesty
    /// Tune-out: honest letters, CE/100 plus the mean over loss layers of |cos(h, v)|.
    case tuneOut = "tune_out"
    /// Soft target: cross-entropy against 0.5/0.5 on the two letters.
    case softTarget = "soft_target"

    /// Whether the token loss targets the dishonest letter.
    public var swapsLabels: Bool { self == .lie || self == .dishonesty }

    /// Whether the loss has a cosine term (and needs per-layer vectors).
    public var usesVector: Bool { self == .honesty || self == .dishonesty || self == .tuneOut }

    /// Weight of the token loss: 1/100 beside a cosine loss, 1 for token-only runs.
    public var crossEntropyWeight: Float { usesVector ? 0.01 : 1 }

    /// The cosine term's mode and the sign the vector is used with (nil for token-only objectives).
    public var cosine: (mode: CosineTarget.Mode, sign: Float)? {
        switch self {
        case .honesty: (.tuneIn, 1)
        case .dishonesty: (.tuneIn, -1)
        case .tuneOut: (.tuneOut, 1)
        case .truth, .lie, .softTarget: nil
        }
    }
}
