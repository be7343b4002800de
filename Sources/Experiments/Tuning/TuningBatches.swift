import Engine
import ModelFormats

/// The batches of a tuning run, composed from (true, false) pairs so that every batch is balanced.
///
/// Training order: for each epoch, the pairs are permuted by a Fisher–Yates shuffle driven by one
/// `SeededGenerator(seed:)` (xoshiro256** seeded through SplitMix64; index j = next() mod (i + 1) for i from n−1
/// down to 1), continuing across epochs; the shuffled pairs are laid out true, false, true, false… and cut into
/// batches of `batchSize` (a final shorter batch of whole pairs is kept). The order depends on the seed alone, so
/// every process computes the same batches and a checkpoint's batch cursor is enough to resume. Validation batches
/// keep the pairs' order and are not shuffled.
///
/// Cosine targets get weight 1 / (cosine targets in the batch), making the cosine loss the mean over loss layers
/// and sequences (the paper's "mean over layers", averaged over the batch as its cross-entropy is).
public enum TuningBatches {
    /// Balanced training batches for `epochs` passes over `pairs`.
    public static func training(_ pairs: [TuningPair], batchSize: Int, epochs: Int, seed: UInt64) throws -> [[TrainingSequence]] {
        try check(batchSize: batchSize, pairs: pairs)
        return epochOrders(pairCount: pairs.count, epochs: epochs, seed: seed).flatMap { order in
            cut(order.map { pairs[$0] }, batchSize: batchSize)
        }
    }

    /// The pair order of each epoch (indices into the pairs), as `training` uses it.
    public static func epochOrders(pairCount: Int, epochs: Int, seed: UInt64) -> [[Int]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<max(epochs, 0)).map { _ in
            var order = Array(0..<pairCount)
            for i in stride(from: pairCount - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            return order
        }
    }

    /// Balanced validation batches in the pairs' order.
    public static func validation(_ pairs: [TuningPair], batchSize: Int) throws -> [[TrainingSequence]] {
        try check(batchSize: batchSize, pairs: pairs)
        return cut(pairs, batchSize: batchSize)
    }

    /// A digest of the batches (tokens, targets, positions, weights, vector bits): a checkpoint written for
    /// other batches is refused.
    public static func fingerprint(_ batches: [[TrainingSequence]]) -> String {
        var h = SHA256()
        func add(_ values: [Int]) { values.map { Int64($0) }.withUnsafeBytes { h.update($0) } }
        var vectorDigests: [[Float]: Int] = [:]
        for batch in batches {
            add([-1, batch.count])
            for s in batch {
                add([-2, s.tokens.count] + s.tokens)
                for t in s.tokenTargets {
                    add([-3, t.position] + t.distribution.flatMap { [$0.token, Int($0.probability.bitPattern)] })
                }
                for c in s.cosineTargets {
                    let id = vectorDigests[c.vector] ?? { let n = vectorDigests.count; vectorDigests[c.vector] = n; return n }()
                    add([-4, c.layer, c.position, c.mode == .tuneIn ? 0 : 1, Int(c.weight.bitPattern), id])
                }
            }
        }
        for (vector, id) in vectorDigests.sorted(by: { $0.value < $1.value }) {
            add([-5, id])
            vector.withUnsafeBytes { h.update($0) }
        }
        return h.finalizeHex()
    }

    private static func check(batchSize: Int, pairs: [TuningPair]) throws {
        guard batchSize >= 2, batchSize % 2 == 0 else {
            throw TuningDataError(field: "batch_size", "expected an even number ≥ 2 (each batch holds whole true/false pairs), found \(batchSize)")
        }
        guard !pairs.isEmpty else {
            throw TuningDataError(field: "dataset", "expected at least one true and one false statement, found none")
        }
    }

    private static func cut(_ pairs: [TuningPair], batchSize: Int) -> [[TrainingSequence]] {
        let flat = pairs.flatMap { [$0.true.sequence, $0.false.sequence] }
        return stride(from: 0, to: flat.count, by: batchSize).map { start in
            var batch = Array(flat[start..<min(start + batchSize, flat.count)])
            let targets = batch.reduce(0) { $0 + $1.cosineTargets.count }
            for i in batch.indices {
                for j in batch[i].cosineTargets.indices { batch[i].cosineTargets[j].weight = 1 / Float(targets) }
            }
            return batch
        }
    }
}
