import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process for tests, started with `posix_spawn` and reaped with `waitpid` by the test itself, its standard
/// output and error collected on two threads and its standard input `/dev/null`. Foundation's `Process` is not used
/// for this: its `waitUntilExit` was seen to block forever with the child already a zombie (a test process that
/// started `scripts/slurm-local.sh` from a static initializer never saw the script exit).
public struct ChildProcess {
    /// How the child ended.
    public struct End: Sendable, CustomStringConvertible {
        /// The exit status, or the signal's number when `signalled`.
        public var status: Int32
        /// Ended by a signal (a crash, or the kill after the time bound), not by exiting.
        public var signalled: Bool
        /// Still running at the time bound, and killed.
        public var timedOut: Bool
        public var seconds: Double
        public var stdout: String
        public var stderr: String

        public var description: String {
            "status \(status)\(signalled ? " (signal)" : "")\(timedOut ? " (timed out)" : ""), \(String(format: "%.1f", seconds)) s; stderr: \(stderr.prefix(600))"
        }
    }

    public let pid: pid_t
    private let started = Date()
    private let readers: DispatchGroup
    private let output: Output

    public init(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL) throws {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw POSIXError(.EMFILE) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err { posix_spawn_file_actions_addclose(&actions, fd) }
        // `cd` then `exec` in /bin/sh (Swift does not see glibc's posix_spawn_file_actions_addchdir_np): the pid is the
        // executable's own once sh has exec'ed it.
        let argv = (["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path, executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/bin/sh", &actions, nil, argv, envp)
        close(out[1]); close(err[1])
        guard rc == 0 else {
            close(out[0]); close(err[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        pid = child
        output = Output()
        readers = DispatchGroup()
        for (fd, isOut) in [(out[0], true), (err[0], false)] {
            readers.enter()
            Thread.detachNewThread { [output, readers] in
                let data = FileHandle(fileDescriptor: fd, closeOnDealloc: true).readDataToEndOfFile()
                output.set(data, stdout: isOut)
                readers.leave()
            }
        }
    }

    /// Waits for the child: after `timeout` seconds it is killed (SIGKILL); `signal` (a signal and a delay) is sent
    /// once on the way, e.g. SIGINT as a Ctrl-C.
    public func wait(timeout: TimeInterval, signal: (Int32, TimeInterval)? = nil) -> End {
        var status: Int32 = 0, timedOut = false, sent = false
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) { break }
            let elapsed = Date().timeIntervalSince(started)
            if let (sig, after) = signal, !sent, elapsed >= after { kill(pid, sig); sent = true }
            if elapsed > timeout, !timedOut { timedOut = true; kill(pid, SIGKILL) }
            usleep(10_000)
        }
        readers.wait()
        let (o, e) = output.both
        let signalled = (status & 0x7f) != 0
        return End(status: signalled ? status & 0x7f : (status >> 8) & 0xff, signalled: signalled, timedOut: timedOut,
                   seconds: Date().timeIntervalSince(started), stdout: String(decoding: o, as: UTF8.self),
                   stderr: String(decoding: e, as: UTF8.self))
    }

    private final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data(), err = Data()
        func set(_ data: Data, stdout: Bool) { lock.lock(); if stdout { out = data } else { err = data }; lock.unlock() }
        var both: (Data, Data) { lock.lock(); defer { lock.unlock() }; return (out, err) }
    }
}
