import Foundation

/// The process's memory use, as the kernel reports it.
public enum ProcessMemory {
    /// Peak resident set size of this process image, in bytes: `VmHWM` from `/proc/self/status` (reset by exec,
    /// unlike `getrusage`'s `ru_maxrss`, which a child inherits from the process that spawned it).
    public static var peakResidentBytes: Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kB = Int(line.split(separator: " ").dropFirst().first ?? "") {
            return kB * 1024
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
    }
}
