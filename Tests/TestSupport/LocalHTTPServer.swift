import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for tests of HTTP clients without the internet.
/// Each connection carries one request; `handler` answers it and every request is recorded. Understands
/// `Content-Length` bodies and `Expect: 100-continue` (libcurl sends it for larger POST bodies). A response can
/// redirect, stop short of its declared length, or stall (for download tests).
public final class LocalHTTPServer: Sendable {
    /// A received request. Header names are lowercased.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: Data
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// What the server answers.
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var contentType: String
        /// Extra header lines (`Location` of a redirect).
        public var headers: [String: String] = [:]
        /// Send only this many bytes of `body` (its full length is still declared), then close: a truncated transfer.
        public var sendOnly: Int?
        /// Seconds to wait, with the connection open, after the bytes sent and before closing: a stalled server.
        public var stall: Double = 0

        public init(status: Int = 200, body: String, contentType: String = "application/json") {
            self.status = status
            self.body = Data(body.utf8)
            self.contentType = contentType
        }

        public init(status: Int = 200, data: Data, contentType: String = "application/octet-stream",
                    headers: [String: String] = [:], sendOnly: Int? = nil, stall: Double = 0) {
            self.status = status
            self.body = data
            self.contentType = contentType
            self.headers = headers
            self.sendOnly = sendOnly
            self.stall = stall
        }

        /// A redirect to `location` (a path on this server or an address).
        public static func redirect(to location: String, status: Int = 302) -> Response {
            Response(status: status, data: Data(), contentType: "text/plain", headers: ["Location": location])
        }

        /// A chat-completions reply whose `choices[0].message.content` is `content`.
        public static func chatCompletion(_ content: String, model: String = "test-model") -> Response {
            let escaped = String(decoding: try! JSONEncoder().encode(content), as: UTF8.self)
            return Response(body: """
                {"id":"chatcmpl-test","object":"chat.completion","model":"\(model)",\
                "choices":[{"index":0,"message":{"role":"assistant","content":\(escaped)},"finish_reason":"stop"}]}
                """)
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (Request) -> Response
    private let received = Mutex<[Request]>([])
    private let stopped = Atomic<Bool>(false)

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Every request received so far, in order.
    public var requests: [Request] { received.withLock { $0 } }

    public init(handler: @escaping @Sendable (Request) -> Response) throws {
        self.handler = handler
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ServerError("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw ServerError("bind/listen on 127.0.0.1 failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting connections (idempotent).
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            serve(connection)
            close(connection)
        }
    }

    private func serve(_ fd: Int32) {
        var buffer = [UInt8]()
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            guard let chunk = readSome(fd) else { return }
            buffer += chunk
            headerEnd = Self.find(separator, in: buffer)
        }
        let head = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Array(buffer[(headerEnd! + separator.count)...])
        if headers["expect"]?.lowercased() == "100-continue" && body.count < length {
            write(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        while body.count < length {
            guard let chunk = readSome(fd) else { break }
            body += chunk
        }
        let request = Request(method: requestLine.first ?? "", path: requestLine.count > 1 ? requestLine[1] : "",
                              headers: headers, body: Data(body.prefix(length)))
        received.withLock { $0.append(request) }
        let response = handler(request)
        let reason = [200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
                      404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
                      503: "Service Unavailable"][response.status] ?? "Status"
        let extra = response.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined()
        let header = "HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\n"
            + "Content-Length: \(response.body.count)\r\n\(extra)Connection: close\r\n\r\n"
        write(fd, Array(header.utf8) + Array(response.body.prefix(response.sendOnly ?? response.body.count)))
        if response.stall > 0 { Thread.sleep(forTimeInterval: response.stall) }
    }

    private func readSome(_ fd: Int32) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(chunk[..<n]) : nil
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }

    /// The server could not start.
    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
