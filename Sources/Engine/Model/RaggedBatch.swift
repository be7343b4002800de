/// The rows of a forward pass: every sequence's new tokens stacked into one `[T × ·]` matrix without padding
/// (T = `total`), with each row's RoPE angles, computed once for all blocks.
struct RaggedBatch {
    /// First row of each sequence.
    let rowStart: [Int]
    /// New tokens of each sequence.
    let lengths: [Int]
    /// Position of each sequence's first new token (the length of its cache before the pass).
    let bases: [Int]
    /// T: rows of the batch.
    let total: Int
    /// cos and sin of every row's rotation angles [T × hd/2].
    let cosines: FloatBuffer, sines: FloatBuffer
    let half: Int

    init(_ items: [ForwardItem], rope: RoPEKernel, headDimension hd: Int) {
        var starts = [Int](), total = 0
        for item in items { starts.append(total); total += item.tokens.count }
        rowStart = starts
        lengths = items.map(\.tokens.count)
        bases = items.map(\.cache.count)
        self.total = total
        half = hd / 2
        cosines = FloatBuffer(count: total * half)
        sines = FloatBuffer(count: total * half)
        for i in items.indices {
            for t in 0..<lengths[i] {
                let r = rowStart[i] + t
                rope.angles(position: bases[i] + t, cos: cosines.pointer + r * half, sin: sines.pointer + r * half)
            }
        }
    }

    var count: Int { lengths.count }
}
