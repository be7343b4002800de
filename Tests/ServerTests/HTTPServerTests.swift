import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Server
import Testing

/// The HTTP layer alone on a loopback socket (an echo handler, no model): keep-alive, chunked request bodies,
/// size limits, the connection limit, idle and request timeouts, and a graceful stop.
@Suite(.serialized) struct HTTPServerTests {
    /// Echoes method, path and body length, and the body itself.
    static func echoServer(maxConnections: Int = 8, configure: (inout HTTPLimits) -> Void = { _ in }) throws -> HTTPServer {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1000
        limits.maxHeaderBytes = 2000
        limits.requestTimeout = 1
        limits.idleTimeout = 1
        configure(&limits)
        let server = HTTPServer(limits: limits, maxConnections: maxConnections, handler: { request, responder in
            if request.path == "/slow" { usleep(1_500_000) }
            try responder.send(HTTPResponse(status: 200, body: Array("\(request.method) \(request.path) \(request.body.count):".utf8) + request.body))
        }, onBadRequest: { HTTPResponse(status: $0.status, body: Array($0.message.utf8)) })
        try server.start(host: "127.0.0.1", port: 0)
        return server
    }

    /// Reads exactly one response (by its Content-Length) from a kept-alive connection.
    static func readResponse(_ fd: Int32) -> (status: Int, body: String)? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while LoopbackClient.parse(bytes) == nil || !bytes.suffix(4).elementsEqual([13, 10, 13, 10]) && bytes.count < 4 {
            guard recv(fd, &byte, 1, 0) == 1 else { return nil }
            bytes.append(byte)
            if bytes.count >= 4 && bytes.suffix(4).elementsEqual([13, 10, 13, 10]) { break }
        }
        let head = String(decoding: bytes, as: UTF8.self)
        let length = head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        var body = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = body.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, length - got, 0) }
            guard n > 0 else { return nil }
            got += n
        }
        let status = Int(head.split(separator: " ")[1]) ?? 0
        return (status, String(decoding: body, as: UTF8.self))
    }

    @Test func keepAliveAndChunkedBodies() throws {
        let server = try Self.echoServer()
        defer { server.stop() }
        let client = LoopbackClient(port: server.port)
        let fd = try client.connect()
        defer { close(fd) }
        // Two requests on one connection, the second with a chunked body (with an extension and a trailer).
        LoopbackClient.send(fd, Array("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".utf8))
        let first = try #require(Self.readResponse(fd))
        #expect(first.status == 200 && first.body == "POST /a 5:hello")
        LoopbackClient.send(fd, Array("POST /b?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n".utf8))
        let second = try #require(Self.readResponse(fd))
        #expect(second.status == 200 && second.body == "POST /b 13:abc0123456789")
    }

    @Test func limitsGiveTheirStatus() throws {
        let server = try Self.echoServer()
        defer { server.stop() }
        let client = LoopbackClient(port: server.port)
        let cases: [(String, Int)] = [
            ("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", 413),
            ("GET / HTTP/1.1\r\nX: \(String(repeating: "y", count: 2100))\r\n\r\n", 431),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3E9\r\n", 413),
            ("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", 400),
            ("GET / HTTP/2.0\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\n folded: header\r\n\r\n", 400),
        ]
        for (raw, status) in cases {
            #expect(try client.exchange(Array(raw.utf8))?.status == status, "\(raw.prefix(60).debugDescription)")
        }
        // A body that stops arriving: 408 after the request timeout (1 s here).
        let start = Date()
        #expect(try client.exchange(Array("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc".utf8))?.status == 408)
        #expect(Date().timeIntervalSince(start) < 3)
    }

    /// Beyond `maxConnections` a connection gets 503 at once; an idle kept-alive connection is closed after the
    /// idle timeout, which frees its place.
    @Test func connectionLimitAndIdleTimeout() throws {
        let server = try Self.echoServer(maxConnections: 2)
        defer { server.stop() }
        let client = LoopbackClient(port: server.port)
        let a = try client.connect(), b = try client.connect()
        defer { close(a); close(b) }
        usleep(200_000)
        #expect(try client.request("GET", "/x")?.status == 503)
        // Both idle connections are closed after 1 s; then there is room again.
        usleep(1_600_000)
        #expect(LoopbackClient.readAll(a).isEmpty)
        #expect(try client.request("GET", "/x")?.status == 200)
    }

    /// `stop` lets a request in flight finish before returning.
    @Test func gracefulStopFinishesRequestsInFlight() throws {
        let server = try Self.echoServer()
        let client = LoopbackClient(port: server.port)
        let answer = Locked<Int>(0)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            answer.with { $0 = (try? client.request("GET", "/slow"))??.status ?? -1 }
            done.signal()
        }
        usleep(300_000)
        server.stop()
        done.wait()
        #expect(answer.value == 200)
        #expect((try? client.request("GET", "/x")) == nil, "the server no longer accepts connections")
    }
}
