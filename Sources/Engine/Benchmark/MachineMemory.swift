import Foundation

/// The machine's memory, as the kernel reports it (`/proc/meminfo`).
public enum MachineMemory {
    /// `MemAvailable`: what new allocations can take without swapping; nil when unknown.
    public static var availableBytes: Int? { field("MemAvailable:") }
    /// `MemTotal`.
    public static var totalBytes: Int? { field("MemTotal:") }

    static func field(_ name: String) -> Int? {
        guard let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let kB = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kB * 1024
    }
}
