import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A connected TCP socket read and written against deadlines (`poll`), so a slow or stalled peer costs its own
/// connection a bounded wait and nothing more. Bytes read ahead of the current request stay in `pending`.
final class SocketStream: @unchecked Sendable {
    let fd: Int32
    /// Bytes received and not yet consumed.
    var pending: [UInt8] = []
    private var closed = false
    private let lock = NSLock()

    init(fd: Int32) {
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    /// Waits until `fd` is readable (or writable) or `deadline` passes; wakes every 100 ms to check `stop`.
    private func wait(forWrite: Bool, until deadline: Date, stop: () -> Bool) -> Bool {
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 || stop() { return false }
            var p = pollfd(fd: fd, events: Int16(forWrite ? POLLOUT : POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(min(left, 0.1) * 1000) + 1)
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return true }   // the read or write reports the error
        }
    }

    /// Reads whatever arrives next into `pending`. Throws `timedOut` when nothing comes by `deadline` (or `stop` is
    /// set), `closed` at end of stream or on a socket error.
    func receive(until deadline: Date, stop: () -> Bool = { false }) throws(SocketError) {
        guard wait(forWrite: false, until: deadline, stop: stop) else { throw .timedOut }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { throw .closed }
        pending.append(contentsOf: chunk[..<n])
    }

    /// Writes every byte by `deadline`, or throws (peer gone, or not reading).
    func send(_ bytes: [UInt8], until deadline: Date) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            guard wait(forWrite: true, until: deadline, stop: { false }) else { throw .timedOut }
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .closed
            }
            offset += n
        }
    }

    /// Whether the peer has closed its side (readable with nothing to read), checked without blocking.
    var peerClosed: Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        if p.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// Closes after a refused request without resetting the connection: our side is shut for writing and what
    /// the client still sends is read and dropped (up to 1 s and 8 MiB), so the client reads the error response.
    func lingeringClose() {
        shutdown(fd, Int32(SHUT_WR))
        let deadline = Date(timeIntervalSinceNow: 1)
        var drained = 0
        pending.removeAll()
        while drained < 8 << 20 {
            do { try receive(until: deadline) } catch { break }
            drained += pending.count
            pending.removeAll()
        }
        close()
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }
}

/// Why a socket read or write did not complete.
enum SocketError: Error {
    case timedOut
    case closed
}
