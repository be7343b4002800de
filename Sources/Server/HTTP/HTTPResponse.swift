import Foundation

/// A complete HTTP response: status, headers and body (sent with `Content-Length`).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body.
    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }

    /// The status line and headers, ending with the blank line.
    static func head(status: Int, headers: [(String, String)]) -> [UInt8] {
        var s = "HTTP/1.1 \(status) \(reason(status))\r\n"
        for (name, value) in headers { s += "\(name): \(value)\r\n" }
        s += "\r\n"
        return Array(s.utf8)
    }
}

/// How an endpoint answers on its connection: one whole response, or a chunked stream (server-sent events).
/// A write to a client that went away throws, which is how a streaming endpoint learns to stop.
public final class HTTPResponder: @unchecked Sendable {
    let stream: SocketStream
    let limits: HTTPLimits
    let keepAlive: Bool
    /// Set once a response (or a stream's head) has been written.
    public private(set) var started = false

    init(stream: SocketStream, limits: HTTPLimits, keepAlive: Bool) {
        self.stream = stream
        self.limits = limits
        self.keepAlive = keepAlive
    }

    private var connectionHeader: (String, String) { ("Connection", keepAlive ? "keep-alive" : "close") }

    public func send(_ response: HTTPResponse) throws {
        started = true
        var bytes = HTTPResponse.head(status: response.status, headers: response.headers + [
            ("Content-Length", String(response.body.count)), connectionHeader,
        ])
        bytes += response.body
        try stream.send(bytes, until: Date(timeIntervalSinceNow: limits.writeTimeout))
    }

    /// Starts a chunked response; then `write` each piece and `finish`.
    public func startStream(status: Int = 200, headers: [(String, String)]) throws {
        started = true
        try stream.send(HTTPResponse.head(status: status, headers: headers + [("Transfer-Encoding", "chunked"), connectionHeader]),
                        until: Date(timeIntervalSinceNow: limits.writeTimeout))
    }

    public func write(_ text: String) throws {
        let body = Array(text.utf8)
        guard !body.isEmpty else { return }
        try stream.send(Array((String(body.count, radix: 16) + "\r\n").utf8) + body + [13, 10],
                        until: Date(timeIntervalSinceNow: limits.writeTimeout))
    }

    public func finish() throws {
        try stream.send(Array("0\r\n\r\n".utf8), until: Date(timeIntervalSinceNow: limits.writeTimeout))
    }

    /// Whether the client has closed its side (checked while a long request computes).
    public var clientGone: Bool { stream.peerClosed }
}
