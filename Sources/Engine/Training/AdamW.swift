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

    /// Registers a tensor (or the elements `range` of it) and its gradient buffer with group `group`.
    public mutating func add(weights: FloatBuffer, gradient: FloatBuffer, range: Range<Int>? = nil, group: Int) {
        let r = range ?? 0..<weights.count
        precondition(weights.count == gradient.count && groups.indices.contains(group) && r.upperBound <= weights.count)
        slots.append(Slot(weights: weights, gradient: gradient, range: r, group: group,
                          firstMoment: FloatBuffer(count: r.count), secondMoment: FloatBuffer(count: r.count)))
    }

    /// L2 norm of every registered gradient together.
    public var gradientNorm: Double {
        slots.reduce(0.0) { total, s in
            var sum = 0.0
            for i in s.range { sum += Double(s.gradient[i]) * Double(s.gradient[i]) }
            return total + sum
        }.squareRoot()
    }

    /// Applies one update with the learning rates scaled by `scale` (the schedule's factor for this step).
    /// Returns the gradient norm before clipping.
    @discardableResult
    public mutating func update(learningRateScale scale: Float = 1) -> Double {
        step += 1
        let norm = gradientNorm
        let clip: Float = maxGradientNorm.map { norm > Double($0) ? Float(Double($0) / norm) : 1 } ?? 1
        for s in slots {
            let g = groups[s.group]
            let lr = g.learningRate * scale
            let c1 = 1 - powf(g.beta1, Float(step)), c2 = 1 - powf(g.beta2, Float(step))
            let w = s.weights.pointer + s.range.lowerBound, grad = s.gradient.pointer + s.range.lowerBound
            let m = s.firstMoment.pointer, v = s.secondMoment.pointer
            for i in 0..<s.range.count {
                let gi = grad[i] * clip
                m[i] = g.beta1 * m[i] + (1 - g.beta1) * gi
                v[i] = g.beta2 * v[i] + (1 - g.beta2) * gi * gi
                w[i] -= lr * g.weightDecay * w[i]
                w[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + g.epsilon)
            }
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
