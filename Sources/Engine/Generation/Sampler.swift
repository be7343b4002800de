import Foundation

/// How the next token is chosen from the logits.
public enum Sampling: Sendable, Equatable, Codable {
    /// Arg-max (the first index on ties).
    case greedy
    /// Softmax at `temperature`, restricted to the smallest set of tokens whose probability reaches `topP`,
    /// drawn with a generator seeded by `seed` (and the sequence's index in the batch).
    case random(temperature: Float, topP: Float, seed: UInt64)
}

/// A small, fast, seedable generator (xoshiro256**), identical on every platform, so sampled generations are
/// reproducible from the seed alone.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var r = z
            r = (r ^ (r >> 30)) &* 0xBF58_476D_1CE4_E5B9
            r = (r ^ (r >> 27)) &* 0x94D0_49BB_1331_11EB
            return r ^ (r >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// A uniform value in [0, 1) with 24 bits of resolution.
    public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}

/// Picks tokens from logits according to a `Sampling` rule, with an optional frequency penalty on random sampling.
public struct Sampler: Sendable {
    public let sampling: Sampling
    public let frequencyPenalty: FrequencyPenalty?
    private var generator: SeededGenerator
    /// How often each token has been `record`ed (only kept with a frequency penalty).
    private var counts: [Int: Int] = [:]

    /// `stream` separates the random streams of the sequences of one batch. A `frequencyPenalty` applies to random
    /// sampling (greedy picks ignore it, as in TransformerLens) and counts the tokens passed to `record`.
    public init(_ sampling: Sampling, stream: UInt64 = 0, frequencyPenalty: FrequencyPenalty? = nil) {
        self.sampling = sampling
        self.frequencyPenalty = frequencyPenalty.flatMap { $0.penalty == 0 ? nil : $0 }
        if case .random(_, _, let seed) = sampling {
            generator = SeededGenerator(seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15)
        } else {
            generator = SeededGenerator(seed: 0)
        }
    }

    /// Counts `token` towards the frequency penalty (the caller passes the prompt's tokens too when the penalty
    /// counts the whole sequence). Without a penalty it does nothing.
    public mutating func record(_ token: Int) {
        if frequencyPenalty != nil { counts[token, default: 0] += 1 }
    }

    /// How often `token` has been recorded.
    public func count(of token: Int) -> Int { counts[token] ?? 0 }

    public mutating func next(_ logits: ArraySlice<Float>) -> Int {
        logits.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!, n = buffer.count
            switch sampling {
            case .greedy:
                return ActivationKernels.argmax(p, count: n)
            case .random(let temperature, let topP, _):
                if temperature <= 0 { return ActivationKernels.argmax(p, count: n) }
                if let penalty = frequencyPenalty {
                    // The penalised logits, then the same softmax and nucleus as below.
                    var adjusted = (0..<n).map { penalty.adjusted(p[$0], temperature: temperature, count: 0) }
                    for (token, count) in counts where token >= 0 && token < n {
                        adjusted[token] = penalty.adjusted(p[token], temperature: temperature, count: count)
                    }
                    return adjusted.withUnsafeBufferPointer { draw($0.baseAddress!, n, temperature: 1, topP: topP) }
                }
                return draw(p, n, temperature: temperature, topP: topP)
            }
        }
    }

    /// A draw from softmax(p / temperature) restricted to its top-`topP` nucleus.
    private mutating func draw(_ p: UnsafePointer<Float>, _ n: Int, temperature: Float, topP: Float) -> Int {
        let m = p[ActivationKernels.argmax(p, count: n)]
        var probs = [(Int, Float)]()
        probs.reserveCapacity(n)
        var sum: Float = 0
        for i in 0..<n {
            let e = expf((p[i] - m) / temperature)
            sum += e
            probs.append((i, e))
        }
        probs.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        var kept = 0, mass: Float = 0
        let limit = min(max(topP, 0), 1) * sum
        repeat {
            mass += probs[kept].1
            kept += 1
        } while kept < n && mass < limit
        var u = generator.nextUnit() * mass
        for k in 0..<kept {
            u -= probs[k].1
            if u < 0 { return probs[k].0 }
        }
        return probs[kept - 1].0
    }
}
