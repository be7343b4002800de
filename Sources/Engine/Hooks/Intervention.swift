/// A point in the residual stream where an intervention reads or writes.
public enum ResidualSite: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The token embeddings (input of block 0; HF `hidden_states[0]`).
    case embeddings
    /// The output of decoder block `L` (HF `hidden_states[L+1]`), the paper's "layer L".
    case block(Int)
    /// The last block's output after the final RMSNorm (what the output head reads).
    case finalNorm

    public var description: String {
        switch self {
        case .embeddings: "embeddings"
        case .block(let l): "block \(l)"
        case .finalNorm: "final norm"
        }
    }
}

/// Which token positions of a sequence an intervention touches.
public enum PositionSelector: Hashable, Sendable, Codable {
    /// Every position, prompt and generated.
    case all
    /// Positions of the prompt only.
    case prompt
    /// Generated positions only.
    case generated
    /// Positions `p` and later.
    case from(Int)
    /// Exactly these absolute positions (0-based).
    case positions([Int])
    /// Offsets from the end of the sequence as it stands after the forward pass (0 = last token).
    case fromEnd([Int])

    /// Whether absolute position `position` is selected in a sequence of `length` tokens whose first
    /// `promptLength` tokens are the prompt.
    @inlinable
    public func contains(_ position: Int, promptLength: Int, length: Int) -> Bool {
        switch self {
        case .all: true
        case .prompt: position < promptLength
        case .generated: position >= promptLength
        case .from(let p): position >= p
        case .positions(let list): list.contains(position)
        case .fromEnd(let offsets): offsets.contains(length - 1 - position)
        }
    }
}

/// One hook on the residual stream, passed to `forward`/`generate` as data.
public struct Intervention: Hashable, Sendable {
    /// What the hook does at its site.
    public enum Operation: Hashable, Sendable {
        /// Record the residual stream.
        case capture
        /// Add `multiplier · vector` (the vector as given; pass a unit vector for the paper's `m · v̂`).
        case add(vector: [Float], multiplier: Float)
        /// Remove the component along `direction` (normalised here): `h ← h − (h·d̂) d̂`.
        case projectOut(direction: [Float])
        /// Add row k of `rows` (row-major, the residual's width per row) at absolute position k, for the positions
        /// that have a row: ActAdd's position-aligned steering, `c · (h(p₊) − h(p₋))` over the first positions.
        case addRows(rows: [Float])
    }

    public var site: ResidualSite
    public var positions: PositionSelector
    public var operation: Operation

    public init(site: ResidualSite, positions: PositionSelector = .all, operation: Operation) {
        self.site = site
        self.positions = positions
        if case .projectOut(let d) = operation {
            let norm = d.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            self.operation = .projectOut(direction: norm > 0 ? d.map { $0 / norm } : d)
        } else {
            self.operation = operation
        }
    }

    /// Read the residual stream at `site`.
    public static func capture(_ site: ResidualSite, positions: PositionSelector = .all) -> Intervention {
        Intervention(site: site, positions: positions, operation: .capture)
    }

    /// Whether this adds a vector so large that the residual's sum of squares overflows fp32 in the next RMSNorm
    /// (‖m·v‖² > 3.4e38, i.e. ‖m·v‖ above about 1.8e19): the norm's statistic is then infinite and every later
    /// activation meaningless, though each value may still be finite. Generation treats it as non-finite.
    public var overflowsFP32: Bool {
        switch operation {
        case .add(let vector, let multiplier):
            let norm = vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() * abs(Double(multiplier))
            return !(norm * norm <= Double(Float.greatestFiniteMagnitude))
        case .addRows(let rows):
            // Each row is added alone; the largest row bounds them (the width is unknown here: any finite value
            // squared and summed over a row is bounded by the sum over all rows).
            let sum = rows.reduce(0.0) { $0 + Double($1) * Double($1) }
            return !(sum <= Double(Float.greatestFiniteMagnitude))
        case .capture, .projectOut:
            return false
        }
    }

    /// Steer: add `multiplier · vector` to the output of block `layer`.
    public static func steer(layer: Int, vector: [Float], multiplier: Float,
                             positions: PositionSelector = .all) -> Intervention {
        Intervention(site: .block(layer), positions: positions, operation: .add(vector: vector, multiplier: multiplier))
    }

    /// ActAdd: add `rows` (`[positions × width]`, row k at absolute position k) to the residual stream entering
    /// block `layer` (TransformerLens's `blocks.L.hook_resid_pre`: the embeddings for block 0, else the output of
    /// block L − 1), at the prompt's positions only: decode steps are untouched and see the change through the KV cache.
    public static func actAdd(block layer: Int, rows: [Float]) -> Intervention {
        Intervention(site: layer == 0 ? .embeddings : .block(layer - 1), positions: .prompt, operation: .addRows(rows: rows))
    }

    /// Zero out: project `direction` out of the output of block `layer`.
    public static func projectOut(layer: Int, direction: [Float], positions: PositionSelector = .all) -> Intervention {
        Intervention(site: .block(layer), positions: positions, operation: .projectOut(direction: direction))
    }
}

/// The residual stream recorded by a `.capture` intervention: one row of `width` values per captured position.
public struct Capture: Sendable, Equatable {
    public var site: ResidualSite
    /// Absolute positions of the rows, ascending.
    public var positions: [Int]
    public var width: Int
    /// Row-major `[positions.count × width]`.
    public var values: [Float]

    /// The row of absolute position `position`, if captured.
    public func row(at position: Int) -> ArraySlice<Float>? {
        guard let i = positions.firstIndex(of: position) else { return nil }
        return values[i * width..<(i + 1) * width]
    }
}
