/// A target on the residual stream: the cosine similarity between the output of block `layer` at `position`
/// and `vector` (METHOD.md §5).
public struct CosineTarget: Sendable, Equatable {
    /// What the loss asks of the cosine.
    public enum Mode: String, Sendable, Codable {
        /// `(1 − cos(h, v)) / 2`: pull h towards v (pass −v to pull away).
        case tuneIn
        /// `|cos(h, v)|`: make h orthogonal to v.
        case tuneOut
    }

    public var layer: Int
    public var position: Int
    public var vector: [Float]
    public var mode: Mode
    /// Weight of this term in the loss (e.g. 1 / (layers × batch) for the paper's mean over layers).
    public var weight: Float

    public init(layer: Int, position: Int, vector: [Float], mode: Mode = .tuneIn, weight: Float = 1) {
        self.layer = layer
        self.position = position
        self.vector = vector
        self.mode = mode
        self.weight = weight
    }

    /// The loss term's value for cosine `c`, and its derivative with respect to `c`.
    public func value(cosine c: Float) -> (loss: Float, dLossdCos: Float) {
        switch mode {
        case .tuneIn: ((1 - c) / 2, -0.5)
        case .tuneOut: (abs(c), c >= 0 ? 1 : -1)
        }
    }
}

/// A token target: the logits at `position` should predict `distribution` (one token with probability 1 for
/// hard labels; 0.5/0.5 on two letters for the soft-target variant).
public struct TokenTarget: Sendable, Equatable {
    public var position: Int
    public var distribution: [TokenProbability]

    /// One token of a target distribution.
    public struct TokenProbability: Sendable, Equatable {
        public var token: Int
        public var probability: Float
        public init(token: Int, probability: Float) {
            self.token = token
            self.probability = probability
        }
    }

    public init(position: Int, distribution: [TokenProbability]) {
        self.position = position
        self.distribution = distribution
    }

    /// The hard label `token` predicted from `position`.
    public static func next(_ token: Int, at position: Int) -> TokenTarget {
        TokenTarget(position: position, distribution: [TokenProbability(token: token, probability: 1)])
    }
}

/// One training sequence with what it is scored on.
public struct TrainingSequence: Sendable, Equatable {
    public var tokens: [Int]
    public var tokenTargets: [TokenTarget]
    public var cosineTargets: [CosineTarget]

    public init(tokens: [Int], tokenTargets: [TokenTarget] = [], cosineTargets: [CosineTarget] = []) {
        self.tokens = tokens
        self.tokenTargets = tokenTargets
        self.cosineTargets = cosineTargets
    }
}

/// The measured parts of a training loss.
public struct LossReport: Sendable, Equatable {
    /// The total loss that was differentiated.
    public var loss: Double
    /// Mean cross-entropy over the token targets (before weighting).
    public var crossEntropy: Double
    /// Cosine similarity of each cosine target, in order (sequences, then targets).
    public var cosines: [Float]
}
