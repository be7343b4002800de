import Foundation
import Synchronization

/// A shared "please stop" flag: set by Ctrl-C (or a test), read by the scheduler and by stage runners between
/// units of work. Cells in flight finish; no new cells are claimed.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func cancel() { flag.store(true, ordering: .sequentiallyConsistent) }
    public var isCancelled: Bool { flag.load(ordering: .sequentiallyConsistent) }

    /// Makes the first SIGINT (Ctrl-C) cancel this flag and print `message`; a second SIGINT exits at once with
    /// status 130. Returns the signal source, which must be kept alive while the handler is wanted.
    public func installInterruptHandler(message: String) -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            if isCancelled {
                FileHandle.standardError.write(Data("\ninterrupted again: exiting now\n".utf8))
                exit(130)
            }
            cancel()
            FileHandle.standardError.write(Data("\n\(message)\n".utf8))
        }
        source.resume()
        return source
    }
}

/// Thrown by a stage runner (or `StageContext.checkCancellation()`) to stop after a cancellation request; the
/// cells it held are returned to pending rather than marked failed.
public struct StageCancelled: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "cancelled" }
}
