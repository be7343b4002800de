/// Keys and values of every block for one sequence, so later tokens attend to earlier ones without recomputing.
///
/// A value type: copying a cache (to fork a prompt prefix into several continuations) shares storage until one
/// copy writes, and then only the written blocks are copied.
public struct KVCache: Sendable {
    /// Number of positions held.
    public private(set) var count: Int
    public let width: Int
    var keys: [[Float]]
    var values: [[Float]]

    public init(blocks: Int, width: Int, reserve: Int = 0) {
        self.count = 0
        self.width = width
        keys = Array(repeating: [], count: blocks)
        values = Array(repeating: [], count: blocks)
        if reserve > 0 {
            for b in 0..<blocks {
                keys[b].reserveCapacity(reserve * width)
                values[b].reserveCapacity(reserve * width)
            }
        }
    }

    /// Appends `rows` key and value rows (strided by `ld`) to block `block`'s cache.
    mutating func append(block: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows: Int, ld: Int) {
        for r in 0..<rows {
            keys[block].append(contentsOf: UnsafeBufferPointer(start: k + r * ld, count: width))
            values[block].append(contentsOf: UnsafeBufferPointer(start: v + r * ld, count: width))
        }
    }

    /// Records that `n` positions were appended to every block.
    mutating func advance(by n: Int) { count += n }

    /// Drops every position from `length` on (to rewind to a shared prefix).
    public mutating func truncate(to length: Int) {
        precondition(length <= count)
        for b in keys.indices {
            if keys[b].count > length * width {
                keys[b].removeSubrange((length * width)...)
                values[b].removeSubrange((length * width)...)
            }
        }
        count = length
    }

    /// Bytes held by this cache.
    public var bytes: Int { keys.reduce(0) { $0 + $1.count } * 2 * MemoryLayout<Float>.size }
}
