import Foundation
import Synchronization

/// A shared "please stop" flag: set by Ctrl-C (or a test), read by the scheduler and by stage runners between
/// units of work. Cells in flight finish; no new cells are claimed.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func cancel() { flag.store(true, ordering: .sequentiallyConsistent) }
    public var isCancelled: Bool { flag.load(ordering: .sequentiallyConsistent) }

    /// Seconds a run may take to stop after the first Ctrl-C before it exits anyway.
    public static let forceAfter: TimeInterval = 8

    /// Makes the first SIGINT (Ctrl-C) cancel this flag and print `message`; a second SIGINT, or `forceAfter` seconds
    /// without the run having stopped, exits at once with status 130 (`forced` is printed then). Long cells save their
    /// progress after every unit of work longer than `CellCheckpoint.longUnit`, so a forced exit loses at most the
    /// unit in flight; the cells it held are taken up again by the next run (their process is gone). Returns the signal
    /// source, which must be kept alive while the handler is wanted.
    public func installInterruptHandler(message: String, forced: String = "exiting now") -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            if isCancelled {
                FileHandle.standardError.write(Data("\ninterrupted again: \(forced)\n".utf8))
                Self.exitNow()
            }
            cancel()
            FileHandle.standardError.write(Data("\n\(message)\n".utf8))
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.forceAfter) {
                FileHandle.standardError.write(Data("still computing \(Int(Self.forceAfter)) s after Ctrl-C: \(forced)\n".utf8))
                Self.exitNow()
            }
        }
        source.resume()
        return source
    }

    /// Exits with status 130 (output streams flushed) without running exit handlers: OpenBLAS's would wait for a
    /// product in flight to finish. Files are written to a temporary name and renamed and the database is transactional, so nothing is left half
    /// written.
    private static func exitNow() -> Never {
        fflush(nil)
        _exit(130)
    }
}

/// Thrown by a stage runner (or `StageContext.checkCancellation()`) to stop after a cancellation request; the
/// cells it held are returned to pending rather than marked failed.
public struct StageCancelled: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "cancelled" }
}
