import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which process runs a run, told apart from any later process that reuses its pid: the boot id and the process's
/// start time since boot (Linux `/proc`), written `<boot id>:<pid>:<start ticks>`.
public struct ProcessIdentity: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var host: String
    /// `<boot id>:<pid>:<start ticks>`; nil where `/proc` does not tell.
    public var token: String?

    public init(pid: Int32, host: String, token: String?) {
        self.pid = pid
        self.host = host
        self.token = token
    }

    /// This process.
    public static let current = ProcessIdentity(pid: getpid(), host: ProcessInfo.processInfo.hostName, token: token(of: getpid()))

    /// The identity token of process `pid` on this machine now, or nil when there is no such process (or only its
    /// zombie: killed, not yet reaped).
    public static func token(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, the start time field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return "\(bootID):\(pid):\(fields[19])"
    }

    /// This machine's boot id (`/proc/sys/kernel/random/boot_id`): a process token of another boot is gone.
    public static let bootID: String = ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "")
        .trimmingCharacters(in: .whitespacesAndNewlines)

    /// Whether this process is still running: true or false on this host, nil on another host (or without a token).
    public var isAlive: Bool? {
        guard host == ProcessIdentity.current.host, pid > 0 else { return nil }
        guard let token else { return kill(pid, 0) == 0 || errno == EPERM }
        return Self.token(of: pid) == token
    }

    public var description: String { "process \(pid) on \(host)" }
}

/// How a stored run's status is read: a run marked `running` whose process is gone — killed, or its machine
/// restarted — is interrupted. On this host the process identity decides; for a run of another host, a heartbeat
/// older than `staleAfter` seconds does (the scheduler beats every `heartbeatInterval` seconds; the `v_runs` view
/// applies the heartbeat rule).
public enum RunLiveness {
    public static let heartbeatInterval: TimeInterval = 30
    /// Seconds without a heartbeat after which a running run of another host counts as interrupted (as in `v_runs`).
    public static let staleAfter: TimeInterval = 120

    /// The status to show for `run` now: its stored status, except `interrupted` for a running run whose process
    /// is gone.
    public static func status(of run: RunRecord, now: Double = Date().timeIntervalSince1970) -> String {
        guard run.status == "running" else { return run.status }
        return isGone(run, now: now) ? "interrupted" : "running"
    }

    /// Whether the process of a run stored as running has gone.
    public static func isGone(_ run: RunRecord, now: Double = Date().timeIntervalSince1970) -> Bool {
        if let process = run.process, let alive = process.isAlive { return !alive }
        return now - (run.heartbeatAt ?? run.startedAt) > staleAfter
    }
}
