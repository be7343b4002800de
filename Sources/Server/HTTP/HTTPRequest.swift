import Foundation

/// One HTTP/1.1 request as received: method, target, lower-cased header names, and the body (de-chunked).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target's path, without the query string.
    public var path: String
    public var version: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 closes unless told `keep-alive`.
    public var keepAlive: Bool {
        let c = header("connection")?.lowercased() ?? ""
        return version == "HTTP/1.1" ? !c.contains("close") : c.contains("keep-alive")
    }
}

/// A request the server refuses before it reaches an endpoint: the status and what was wrong.
public struct HTTPError: Error, Sendable {
    public var status: Int
    public var message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// Sizes and times a request must stay within (what a slow, stalled or oversized client is held to).
public struct HTTPLimits: Sendable {
    /// Request line and headers together.
    public var maxHeaderBytes = 16 * 1024
    public var maxHeaderCount = 100
    public var maxBodyBytes = 4 * 1024 * 1024
    /// A request must arrive whole within this time of its first byte (slowloris: dribbled headers or body).
    public var requestTimeout: TimeInterval = 10
    /// A kept-alive connection with no new request for this long is closed.
    public var idleTimeout: TimeInterval = 15
    /// A response write that makes no progress for this long drops the connection (a client that stopped reading).
    public var writeTimeout: TimeInterval = 30

    public init() {}
}

/// Reads requests off a `SocketStream`: request line, headers, and a `Content-Length` or chunked body, within
/// `HTTPLimits`.
enum HTTPRequestReader {
    /// The next request, or nil when the connection closed (or idled out, or the server is stopping) before a
    /// request's first byte. Malformed or oversized input throws `HTTPError` (4xx); the connection is then closed.
    static func next(from stream: SocketStream, limits: HTTPLimits, stop: () -> Bool) throws(HTTPError) -> HTTPRequest? {
        // Wait for the first byte within the idle time.
        if stream.pending.isEmpty {
            do { try stream.receive(until: Date(timeIntervalSinceNow: limits.idleTimeout), stop: stop) } catch { return nil }
        }
        let deadline = Date(timeIntervalSinceNow: limits.requestTimeout)
        func more() throws(HTTPError) {
            do { try stream.receive(until: deadline) } catch .timedOut {
                throw HTTPError(408, "the request did not arrive within \(Int(limits.requestTimeout)) s")
            } catch {
                throw HTTPError(400, "the connection closed in the middle of the request")
            }
        }
        // Head: up to the blank line.
        var headEnd: Int
        while true {
            if let end = find([13, 10, 13, 10], in: stream.pending, from: 0) { headEnd = end; break }
            if stream.pending.count > limits.maxHeaderBytes {
                throw HTTPError(431, "the request line and headers exceed \(limits.maxHeaderBytes) bytes")
            }
            try more()
        }
        guard headEnd <= limits.maxHeaderBytes else {
            throw HTTPError(431, "the request line and headers exceed \(limits.maxHeaderBytes) bytes")
        }
        let head = Array(stream.pending[..<headEnd])
        stream.pending.removeFirst(headEnd + 4)
        guard let text = String(validating: head, as: UTF8.self), !text.contains("\0") else {
            throw HTTPError(400, "the request head is not UTF-8 text")
        }
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter && $0.isUppercase }),
              parts[1].hasPrefix("/") || parts[1] == "*" else {
            throw HTTPError(400, "malformed request line (expected METHOD /path HTTP/1.1)")
        }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPError(400, "unsupported protocol \(version.prefix(20).debugDescription) (expected HTTP/1.1)")
        }
        guard lines.count - 1 <= limits.maxHeaderCount else { throw HTTPError(431, "more than \(limits.maxHeaderCount) headers") }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw HTTPError(400, "malformed header line (expected Name: value)")
            }
            let name = line[..<colon]
            guard name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 && !"()<>@,;\\\"/[]?={}".unicodeScalars.contains($0) }) else {
                throw HTTPError(400, "malformed header name")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            headers.append((name.lowercased(), value))
        }
        var request = HTTPRequest(method: String(parts[0]), path: String(parts[1].prefix { $0 != "?" }), version: version,
                                  headers: headers, body: [])
        // `Expect: 100-continue` (curl sends it for bodies over 1 KiB): ask for the body rather than let the
        // client wait for a second before sending it anyway.
        func continueIfAsked() {
            if request.header("expect")?.lowercased() == "100-continue", version == "HTTP/1.1", stream.pending.isEmpty {
                try? stream.send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), until: Date(timeIntervalSinceNow: limits.writeTimeout))
            }
        }
        let lengths = headers.filter { $0.name == "content-length" }
        let encodings = headers.filter { $0.name == "transfer-encoding" }
        if !encodings.isEmpty {
            guard lengths.isEmpty else { throw HTTPError(400, "both Content-Length and Transfer-Encoding were sent") }
            guard encodings.count == 1, encodings[0].value.lowercased() == "chunked" else {
                throw HTTPError(400, "unsupported Transfer-Encoding (only chunked)")
            }
            continueIfAsked()
            request.body = try readChunked(stream, limits: limits, more: more)
        } else if !lengths.isEmpty {
            guard Set(lengths.map(\.value)).count == 1, let value = lengths.first?.value, !value.isEmpty, value.count <= 12,
                  value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber), let length = Int(value) else {
                throw HTTPError(400, "malformed Content-Length")
            }
            guard length <= limits.maxBodyBytes else {
                throw HTTPError(413, "the body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes)")
            }
            if length > 0 { continueIfAsked() }
            while stream.pending.count < length { try more() }
            request.body = Array(stream.pending[..<length])
            stream.pending.removeFirst(length)
        }
        return request
    }

    private static func readChunked(_ stream: SocketStream, limits: HTTPLimits, more: () throws(HTTPError) -> Void)
        throws(HTTPError) -> [UInt8]
    {
        var body: [UInt8] = []
        func line() throws(HTTPError) -> [UInt8] {
            while true {
                if let end = find([13, 10], in: stream.pending, from: 0) {
                    let l = Array(stream.pending[..<end])
                    stream.pending.removeFirst(end + 2)
                    return l
                }
                if stream.pending.count > 4096 { throw HTTPError(400, "malformed chunked body (a chunk line over 4096 bytes)") }
                try more()
            }
        }
        while true {
            let sizeLine = try line()
            let hex = sizeLine.prefix { $0 != UInt8(ascii: ";") }
            guard !hex.isEmpty, hex.count <= 8, let text = String(validating: hex, as: UTF8.self),
                  text.allSatisfy(\.isHexDigit), let size = Int(text, radix: 16) else {
                throw HTTPError(400, "malformed chunked body (a chunk size that is not hexadecimal)")
            }
            if size == 0 {
                // Trailers, up to the blank line.
                var trailers = 0
                while try !line().isEmpty {
                    trailers += 1
                    if trailers > limits.maxHeaderCount { throw HTTPError(431, "too many trailers") }
                }
                return body
            }
            guard body.count + size <= limits.maxBodyBytes else {
                throw HTTPError(413, "the chunked body exceeds the limit of \(limits.maxBodyBytes) bytes")
            }
            while stream.pending.count < size + 2 { try more() }
            guard stream.pending[size] == 13, stream.pending[size + 1] == 10 else {
                throw HTTPError(400, "malformed chunked body (a chunk not followed by CRLF)")
            }
            body.append(contentsOf: stream.pending[..<size])
            stream.pending.removeFirst(size + 2)
        }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count + start else { return nil }
        var i = start
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] {
                var match = true
                for k in 1..<needle.count where bytes[i + k] != needle[k] { match = false; break }
                if match { return i }
            }
            i += 1
        }
        return nil
    }
}

extension HTTPError: CustomStringConvertible {
    public var description: String { message }
}
