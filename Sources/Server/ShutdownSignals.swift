import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM as a graceful stop: `block()` before any thread starts (threads inherit the mask, so no
/// thread is interrupted), then `wait()` on one thread returns the signal that came.
public enum ShutdownSignals {
    private static func set() -> sigset_t {
        var s = sigset_t()
        sigemptyset(&s)
        sigaddset(&s, SIGINT)
        sigaddset(&s, SIGTERM)
        return s
    }

    public static func block() {
        var s = set()
        pthread_sigmask(SIG_BLOCK, &s, nil)
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    public static func wait() -> Int32 {
        var s = set()
        var signal: Int32 = 0
        while sigwait(&s, &signal) != 0 {}
        return signal
    }
}
