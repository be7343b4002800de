import Foundation

/// AdamW with parameter groups (decoupled weight decay, per-group learning rate, ε and decay), bias-corrected
/// moments, optional global gradient-norm clipping; fp32 master weights updated in place.
public struct AdamW: Sendable {
    /// Hyperparameters shared by a set of tensors.
    public struct Group: Sendable, Equatable, Codable {
        public var learningRate: Float
        public var weightDecay: Float
        public var epsilon: Float
        public var beta1: Float
        public var beta2: Float

        public init(learningRate: Float, weightDecay: Float = 0.01, epsilon: Float = 1e-8, beta1: Float = 0.9,
                    beta2: Float = 0.999) {
            self.learningRate = learningRate
            self.weightDecay = weightDecay
            self.epsilon = epsilon
            self.beta1 = beta1
            self.beta2 = beta2
        }
    }

    /// One optimised range of a tensor: its weights, gradient, group and moment estimates.
    public struct Slot: Sendable {
        public let weights: FloatBuffer
        public let gradient: FloatBuffer
        /// The elements of `weights`/`gradient` this slot updates (e.g. the V rows of a stacked Q/K/V matrix).
        public let range: Range<Int>
        public let group: Int
        public let firstMoment: FloatBuffer
        public let secondMoment: FloatBuffer
    }

    public var groups: [Group]
    public private(set) var slots: [Slot] = []
    /// Steps taken so far (bias correction uses it).
    public private(set) var step = 0
    /// Clip the global L2 norm of all gradients to this value before the update; nil = no clipping.
    public var maxGradientNorm: Float?

    public init(groups: [Group], maxGradientNorm: Float? = nil) {
        self.groups = groups
        self.maxGradientNorm = maxGradientNorm
    }

    /// Registers a tensor (or the elements `range` of it) and its gradient buffer with group `group`; its moments
    /// come from `allocate` (zero-filled buffers in memory by default, or on disk).
    public mutating func add(weights: FloatBuffer, gradient: FloatBuffer, range: Range<Int>? = nil, group: Int) {
        add(weights: weights, gradient: gradient, range: range, group: group) { FloatBuffer(count: $0) }
    }

    public mutating func add(weights: FloatBuffer, gradient: FloatBuffer, range: Range<Int>? = nil, group: Int,
                             allocate: (Int) throws -> FloatBuffer) rethrows {
        let r = range ?? 0..<weights.count
        precondition(weights.count == gradient.count && groups.indices.contains(group) && r.upperBound <= weights.count)
        slots.append(Slot(weights: weights, gradient: gradient, range: r, group: group,
                          firstMoment: try allocate(r.count), secondMoment: try allocate(r.count)))
    }

    /// L2 norm of every registered gradient together (partial sums over fixed chunks, added in order, so the value
    /// does not depend on the number of threads).
    public var gradientNorm: Double { norm(over: chunks) }

    private func norm(over chunks: [(Int, Range<Int>)]) -> Double {
        let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: chunks.count)
        defer { partial.deallocate() }
        ParallelLoop.run(chunks.count) { k in
            let (s, r) = chunks[k]
            let g = slots[s].gradient.pointer
            var sum = 0.0
            for i in r { sum += Double(g[i]) * Double(g[i]) }
            partial[k] = sum
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// Every slot's range cut into pieces of at most `chunkSize` elements: (slot index, element range).
    private var chunks: [(Int, Range<Int>)] {
        slots.indices.flatMap { s in
            stride(from: slots[s].range.lowerBound, to: slots[s].range.upperBound, by: Self.chunkSize).map {
                (s, $0..<min($0 + Self.chunkSize, slots[s].range.upperBound))
            }
        }
    }

    private static let chunkSize = 1 << 16

    /// Applies one update with the learning rates scaled by `scale` (the schedule's factor for this step).
    /// Returns the gradient norm before clipping.
    @discardableResult
    public mutating func update(learningRateScale scale: Float = 1) -> Double {
        step += 1
        let chunks = self.chunks, slots = self.slots, groups = self.groups, step = self.step
        let norm = norm(over: chunks)
        let clip: Float = maxGradientNorm.map { norm > Double($0) ? Float(Double($0) / norm) : 1 } ?? 1
        ParallelLoop.run(chunks.count) { k in
            let (index, r) = chunks[k]
            let s = slots[index], g = groups[s.group]
            let c1 = 1 - powf(g.beta1, Float(step)), c2 = 1 - powf(g.beta2, Float(step))
            let offset = r.lowerBound - s.range.lowerBound
            AdamWKernel.update(weights: s.weights.pointer + r.lowerBound, gradient: s.gradient.pointer + r.lowerBound,
                               firstMoment: s.firstMoment.pointer + offset, secondMoment: s.secondMoment.pointer + offset,
                               count: r.count, learningRate: g.learningRate * scale, weightDecay: g.weightDecay,
                               epsilon: g.epsilon, beta1: g.beta1, beta2: g.beta2, biasCorrection1: c1,
                               biasCorrection2: c2, gradientScale: clip)
        }
        return norm
    }

    /// Restores the step count (moments are restored through `slots`' buffers) when resuming from a checkpoint.
    public mutating func restore(step: Int) { self.step = step }
}

/// Linear warm-up from 0 to 1 over `warmupSteps`, then linear decay to 0 at `totalSteps` — the factor of
/// `transformers.get_linear_schedule_with_warmup` (step 0 has factor 0 when there is a warm-up).
public struct LinearWarmupDecay: Sendable, Equatable, Codable {
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(warmupSteps: Int, totalSteps: Int) {
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// Learning-rate factor for 0-based step `step`.
    public func factor(step: Int) -> Float {
        if step < warmupSteps { return Float(step) / Float(max(warmupSteps, 1)) }
        let remaining = totalSteps - step
        let span = max(totalSteps - warmupSteps, 1)
        return max(0, Float(remaining) / Float(span))
    }
}
