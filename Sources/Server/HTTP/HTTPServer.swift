import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server on POSIX sockets: one listening socket, one thread per connection (at most
/// `maxConnections`; beyond that a connection gets 503 and is closed), keep-alive, requests read within
/// `HTTPLimits`, and a graceful stop that lets requests in flight finish.
public final class HTTPServer: @unchecked Sendable {
    /// Answers one request; throwing means the connection broke (the server then closes it).
    public typealias Handler = @Sendable (HTTPRequest, HTTPResponder) throws -> Void

    public let limits: HTTPLimits
    public let maxConnections: Int
    /// The port bound (the one asked for, or the one the system chose for port 0).
    public private(set) var port: Int = 0
    private let handler: Handler
    private let onBadRequest: @Sendable (HTTPError) -> HTTPResponse
    private var listener: Int32 = -1
    private let state = NSCondition()
    private var stopping = false
    private var connections = 0
    private var acceptThread: Thread?
    private var acceptDone = false

    /// - Parameter onBadRequest: the response for a request that could not be read (an `HTTPError`), in the
    ///   endpoints' error shape.
    public init(limits: HTTPLimits = HTTPLimits(), maxConnections: Int, handler: @escaping Handler,
                onBadRequest: @escaping @Sendable (HTTPError) -> HTTPResponse) {
        self.limits = limits
        self.maxConnections = maxConnections
        self.handler = handler
        self.onBadRequest = onBadRequest
    }

    /// Binds `host:port` (an IPv4 address; port 0 picks a free one) and starts accepting connections.
    public func start(host: String, port: Int) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            throw HTTPError(0, "--host \(host): expected an IPv4 address such as 127.0.0.1 or 0.0.0.0")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPError(0, "socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw HTTPError(0, "cannot listen on \(host):\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "http-accept"
        acceptThread = thread
        thread.start()
    }

    private var isStopping: Bool {
        state.lock()
        defer { state.unlock() }
        return stopping
    }

    private func acceptLoop() {
        while !isStopping {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            let stream = SocketStream(fd: fd)
            state.lock()
            let admitted = !stopping && connections < maxConnections
            if admitted { connections += 1 }
            state.unlock()
            guard admitted else {
                var busy = onBadRequest(HTTPError(503, "the server has \(maxConnections) connections open; try again shortly"))
                busy.headers.append(("Retry-After", "1"))
                let responder = HTTPResponder(stream: stream, limits: limits, keepAlive: false)
                try? responder.send(busy)
                stream.close()
                continue
            }
            let thread = Thread { [self] in
                serve(stream)
                stream.close()
                state.lock()
                connections -= 1
                state.broadcast()
                state.unlock()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        Glibc.close(listener)
        state.lock()
        acceptDone = true
        state.broadcast()
        state.unlock()
    }

    /// Requests of one connection, one after another, until it closes, idles out, breaks a limit or the server stops.
    private func serve(_ stream: SocketStream) {
        while true {
            let request: HTTPRequest
            do {
                guard let r = try HTTPRequestReader.next(from: stream, limits: limits, stop: { self.isStopping }) else { return }
                request = r
            } catch {
                let responder = HTTPResponder(stream: stream, limits: limits, keepAlive: false)
                try? responder.send(onBadRequest(error))
                stream.lingeringClose()
                return
            }
            let keepAlive = request.keepAlive && !isStopping
            let responder = HTTPResponder(stream: stream, limits: limits, keepAlive: keepAlive)
            do { try handler(request, responder) } catch { return }
            if !keepAlive { return }
        }
    }

    /// Stops accepting, closes idle connections, and waits up to `timeout` for requests in flight to finish.
    public func stop(timeout: TimeInterval = 120) {
        state.lock()
        stopping = true
        let deadline = Date(timeIntervalSinceNow: timeout)
        while (!acceptDone && acceptThread != nil) || connections > 0 {
            if !state.wait(until: deadline) { break }
        }
        state.unlock()
    }

    /// Open connections (for tests and the health endpoint).
    public var openConnections: Int {
        state.lock()
        defer { state.unlock() }
        return connections
    }
}
