/// CAST's condition (Lee et al., "Programming Refusal with Conditional Activation Steering"): steer a prompt only
/// when its hidden state at block `layer` points along the condition vector. reptune's similarity is the cosine
/// between the prompt's mean residual at that block (the output of block `layer`, averaged over the prompt's tokens
/// up to the steering start, as the model reads the question), less a `centre` when one is given (the mean over a
/// validation split's prompts: the residual's large shared component otherwise leaves every prompt's cosine in a
/// narrow band), and the condition vector; the prompt is steered when
/// that cosine passes `threshold` under `comparator`. The cosine is signed (CAST compares the state with its
/// projection on the direction, which loses the sign), so `≥ t` means "at least this much along the direction".
public struct SteeringCondition: Sendable, Equatable {
    /// How a similarity is compared with the threshold.
    public enum Comparator: String, Sendable, CaseIterable {
        case atLeast = ">="
        case atMost = "<="

        public func passes(_ similarity: Double, _ threshold: Double) -> Bool {
            self == .atLeast ? similarity >= threshold : similarity <= threshold
        }
    }

    /// Why a condition cannot be built or applied.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let layer: Int
    public let vector: [Float]
    public let comparator: Comparator
    public let threshold: Double
    public let centre: [Double]?

    /// The condition; `width` is the residual's (the vector and the centre must have that many entries, all finite,
    /// the vector not all zero).
    public init(layer: Int, vector: [Float], width: Int, comparator: Comparator, threshold: Double, centre: [Double]? = nil) throws {
        guard vector.count == width else {
            throw Problem(description: "the condition vector has \(vector.count) entries; the model's residual at block \(layer) has \(width)")
        }
        if let centre, centre.count != width || !centre.allSatisfy(\.isFinite) {
            throw Problem(description: "the centre has \(centre.count) entries (finite: \(centre.allSatisfy(\.isFinite))); the residual has \(width)")
        }
        guard vector.allSatisfy(\.isFinite), vector.contains(where: { $0 != 0 }) else {
            throw Problem(description: "the condition vector must be finite and not all zero")
        }
        guard threshold.isFinite else { throw Problem(description: "the threshold \(threshold) is not a finite number") }
        self.layer = layer
        self.vector = vector
        self.comparator = comparator
        self.threshold = threshold
        self.centre = centre
    }

    /// cos(mean of `rows` − centre, v): `rows` is `[tokens × width]` row-major (a capture's values). 0 for a zero vector.
    public static func similarity(rows: [Float], width: Int, vector: [Float], centre: [Double]? = nil) -> Double {
        precondition(width > 0 && rows.count % width == 0 && vector.count == width, "rows of the vector's width")
        return similarity(mean: tokenMean(rows: rows, width: width), vector: vector, centre: centre)
    }

    /// cos(h − centre, v) for a prompt's mean residual `h`.
    public static func similarity(mean h: [Double], vector: [Float], centre: [Double]?) -> Double {
        Cosine.of(centre.map { zip(h, $0).map { $0 - $1 } } ?? h, vector)
    }

    public func similarity(rows: [Float]) -> Double { Self.similarity(rows: rows, width: vector.count, vector: vector, centre: centre) }

    /// Whether a prompt with this similarity is steered.
    public func fires(_ similarity: Double) -> Bool { comparator.passes(similarity, threshold) }

    /// CAST's condition vector from two prompt sets: the mean of the "should steer" prompts' mean residuals minus the
    /// mean of the others' (each `[width]`).
    public static func meanDifference(steer: [[Double]], keep: [[Double]]) -> [Float] {
        zip(mean(steer), mean(keep)).map { Float($0 - $1) }
    }

    /// The element-wise mean of equally long rows.
    public static func mean(_ rows: [[Double]]) -> [Double] {
        var m = [Double](repeating: 0, count: rows.first?.count ?? 0)
        for row in rows { for j in m.indices { m[j] += row[j] } }
        return m.map { $0 / Double(max(rows.count, 1)) }
    }

    /// The mean over tokens of `[tokens × width]` rows.
    public static func tokenMean(rows: [Float], width: Int) -> [Double] {
        mean(stride(from: 0, to: rows.count, by: width).map { rows[$0..<$0 + width].map(Double.init) })
    }
}
