import Foundation

/// The process's memory use, as the kernel reports it.
public enum ProcessMemory {
    /// Peak resident set size so far, in bytes (`getrusage` reports kilobytes on Linux).
    public static var peakResidentBytes: Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
    }
}
