import Foundation
import Synchronization

/// Cells done out of a total, with the rate since the meter started and the time left at that rate.
public struct ProgressMeter: Sendable, Hashable {
    public var total: Int
    /// Cells already done when the meter started (resumed work does not count towards the rate).
    public var initial: Int
    public var done: Int
    public var startTime: Double
    public var now: Double
    /// What is counted (`cells`, `prompts`, `steps`).
    public var unit: String

    public init(total: Int, done: Int, startTime: Double, unit: String = "cells") {
        self.unit = unit
        self.total = total
        self.initial = done
        self.done = done
        self.startTime = startTime
        self.now = startTime
    }

    /// Cells per second computed by this process; nil before the first one.
    public var rate: Double? {
        let elapsed = now - startTime
        guard done > initial, elapsed > 0 else { return nil }
        return Double(done - initial) / elapsed
    }

    /// Seconds left at the current rate; nil when unknown.
    public var eta: Double? { rate.map { Double(max(0, total - done)) / $0 } }

    public var description: String {
        var s = "\(done)/\(total) \(unit)"
        if let rate { s += ", " + (rate >= 1 ? String(format: "%.1f", rate) : String(format: "%.2f", rate)) + "/s" }
        if let eta, done < total { s += ", ETA \(Self.duration(eta))" }
        return s
    }

    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}

/// Shows a run's progress: on a terminal, one live line per running stage (redrawn in place) with cells
/// done/total, rate and ETA; otherwise plain log lines (a start line, at most one progress line per stage every
/// `logInterval` seconds, and an end line). Use `observer` as the scheduler's `RunObserver`.
public final class ProgressDisplay: Sendable {
    private struct State {
        var meters: [(id: String, meter: ProgressMeter, lastLogged: Double)] = []
        /// Progress inside a stage's current cell, by stage id.
        var details: [String: (label: String, meter: ProgressMeter, status: String?, lastLogged: Double)] = [:]
        var drawnLines = 0
    }

    private let state = Mutex(State())
    private let live: Bool
    private let logInterval: Double
    private let clock: @Sendable () -> Double
    private let write: @Sendable (String) -> Void

    /// `live` defaults to whether standard output is a terminal.
    public init(live: Bool = isatty(STDOUT_FILENO) != 0, logInterval: Double = 10,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }) {
        self.live = live
        self.logInterval = logInterval
        self.clock = clock
        self.write = write
    }

    public var observer: RunObserver { { [self] event in handle(event) } }

    public func handle(_ event: RunEvent) {
        let now = clock()
        state.withLock { s in
            var out = ""
            if live { out += erase(&s) }
            switch event {
            case .stageStarted(let id, let kind, let total, let done):
                s.meters.append((id, ProgressMeter(total: total, done: done, startTime: now), now))
                if !live {
                    out += "[\(id)] \(kind) started: \(done)/\(total) cells done\n"
                }
            case .cellFinished(let id, _):
                if let i = s.meters.firstIndex(where: { $0.id == id }) {
                    s.meters[i].meter.done += 1
                    s.meters[i].meter.now = now
                    if !live, now - s.meters[i].lastLogged >= logInterval {
                        s.meters[i].lastLogged = now
                        out += "[\(id)] \(s.meters[i].meter.description)\n"
                    }
                }
            case .progress(let id, let label, let done, let total, let status):
                // A meter starts at the first count reported, so work resumed from a checkpoint (a tune
                // restarting at step 154) is not counted in the rate.
                // In plain lines, the first report of a meter is printed at once (where a cell starts or resumes).
                var d = s.details[id] ?? (label, ProgressMeter(total: total, done: done, startTime: now, unit: label), status, -.infinity)
                if d.label != label || d.meter.total != total || done < d.meter.done {
                    d = (label, ProgressMeter(total: total, done: done, startTime: now, unit: label), status, -.infinity)
                }
                d.meter.done = done
                d.meter.now = now
                d.status = status
                if !live, now - d.lastLogged >= logInterval || done == total {
                    d.lastLogged = now
                    out += "[\(id)] \(status.map { "\($0): " } ?? "")\(d.meter.description)\n"
                }
                s.details[id] = d
            case .stageFinished(let id, let outcome):
                s.meters.removeAll { $0.id == id }
                s.details[id] = nil
                out += "[\(id)] \(outcome)\n"
            case .log(let id, let message):
                out += "[\(id)] \(message)\n"
            }
            if live { out += draw(&s, now: now) }
            if !out.isEmpty { write(out) }
        }
    }

    private func erase(_ s: inout State) -> String {
        guard s.drawnLines > 0 else { return "" }
        let out = String(repeating: "\u{1B}[1A\u{1B}[2K", count: s.drawnLines) + "\r"
        s.drawnLines = 0
        return out
    }

    private func draw(_ s: inout State, now: Double) -> String {
        var out = ""
        for i in s.meters.indices {
            s.meters[i].meter.now = now
            let m = s.meters[i].meter
            let width = 24
            let filled = m.total > 0 ? min(width, m.done * width / m.total) : width
            out += "\(s.meters[i].id) [\(String(repeating: "█", count: filled))\(String(repeating: "·", count: width - filled))] \(m.description)\n"
            if var d = s.details[s.meters[i].id] {
                d.meter.now = now
                out += "    \(d.status.map { "\($0): " } ?? "")\(d.meter.description)\n"
                s.drawnLines += 1
            }
        }
        s.drawnLines += s.meters.count
        return out
    }
}
