import Foundation

/// The machine's memory, as the kernel reports it (`/proc/meminfo`).
public enum MachineMemory {
    /// `MemAvailable`: what new allocations can take without swapping; nil when unknown. `REPTUNE_MEMORY_LIMIT`
    /// (bytes) caps it, to plan for, or refuse what would not fit on, a smaller machine (or a container's limit).
    public static var availableBytes: Int? {
        let limit = ProcessInfo.processInfo.environment["REPTUNE_MEMORY_LIMIT"].flatMap { Int($0) }
        guard let available = field("MemAvailable:") else { return limit }
        return limit.map { min($0, available) } ?? available
    }
    /// `MemTotal`, capped by `REPTUNE_MEMORY_LIMIT` like `availableBytes`.
    public static var totalBytes: Int? {
        let limit = ProcessInfo.processInfo.environment["REPTUNE_MEMORY_LIMIT"].flatMap { Int($0) }
        guard let total = field("MemTotal:") else { return limit }
        return limit.map { min($0, total) } ?? total
    }

    static func field(_ name: String) -> Int? {
        guard let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let kB = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kB * 1024
    }
}
