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

    /// Keeps freed buffers in the heap instead of returning them to the kernel: every allocation up to 32 MiB comes
    /// from the heap (glibc's fixed maximum for the mmap threshold), and the heap is never trimmed. A training step
    /// allocates its ~140 MiB activation tape anew each step; without this, each step pays tens of thousands of
    /// page faults to get the same memory back (≈ 70 ms of a 1 s step). Peak memory is unchanged; resident memory
    /// stays at the peak afterwards. Called once by the `reptune` executable; the library never calls it itself.
    public static func keepFreedBuffers() {
        _ = glibcMallopt(-3, 32 << 20)      // M_MMAP_THRESHOLD (<malloc.h>)
        _ = glibcMallopt(-1, Int32.max)     // M_TRIM_THRESHOLD
    }
}

/// glibc's `int mallopt(int param, int value)`; `<malloc.h>` is not part of the Glibc module Swift imports.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
