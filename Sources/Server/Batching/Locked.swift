import Foundation

/// A value shared between threads, guarded by a lock.
public final class Locked<Value>: @unchecked Sendable {
    private var value_: Value
    private let lock = NSLock()

    public init(_ value: Value) { value_ = value }

    public func with<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value_)
    }

    public var value: Value { with { $0 } }
}

/// Runs `body(0..<count)` on `count` threads of its own at once (not a pool sized to the cores), and waits for
/// all: concurrent clients for the tests and `bench --serve`.
public func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        let t = Thread {
            body(i)
            group.leave()
        }
        t.stackSize = 1 << 20
        t.start()
    }
    group.wait()
}
