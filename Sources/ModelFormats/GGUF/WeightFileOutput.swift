import Foundation

/// Atomic output for weight files: write to a temporary file beside the destination, then rename it into place.
enum WeightFileOutput {
    /// Why writing failed, in words.
    struct Failure: Error { let reason: String }

    /// Creates a temporary file beside `url`, lets `body` fill it, then renames it over `url`. On any failure the
    /// temporary file is removed; errors thrown by `body` are passed through unchanged.
    static func atomicWrite(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw Failure(reason: "cannot create a temporary file in \(directory.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary.path, url.path) == 0 else {
                throw Failure(reason: "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}
