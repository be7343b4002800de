import Dispatch
import Foundation

/// Our own parallel loops, sized to the machine, for the phases where OpenBLAS's threads are idle (attention,
/// element-wise kernels), so the two never oversubscribe the cores.
public enum ParallelLoop {
    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body(i)` for `i` in `0..<parts`, in parallel when `parts > 1`. The parts must write disjoint memory.
    @inline(__always)
    public static func run(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedBox(value: escapable)
            DispatchQueue.concurrentPerform(iterations: parts) { box.value($0) }
        }
    }

    /// Runs `body` over `0..<rows` cut into one contiguous range per core, or in one piece when there are fewer than
    /// `grain` rows per core (so small element-wise passes don't pay for a thread hand-off).
    @inline(__always)
    public static func rows(_ rows: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(cores, rows / max(grain, 1))
        if parts <= 1 {
            body(0..<rows)
            return
        }
        run(parts) { p in body((rows * p / parts)..<(rows * (p + 1) / parts)) }
    }
}

/// Carries a closure over raw pointers into `concurrentPerform`; callers guarantee the parts don't race.
private struct UncheckedBox<T>: @unchecked Sendable { let value: T }
