import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Pipeline

/// A minimal HTTP/1.1 client for a server on this machine (127.0.0.1), used by `bench --serve` and the tests
/// that need exact bytes on the wire (malformed requests, dribbled headers) or many concurrent streams: sends
/// bytes, reads the whole response (the server closes after `Connection: close`), and de-chunks it.
public struct LoopbackClient: Sendable {
    public let port: Int

    public init(port: Int) { self.port = port }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        /// Server-sent events' `data:` payloads, in order.
        public var events: [String] { body.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) } }
        public var json: JSONValue? { try? JSONParser.parse(body) }
    }

    public func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { Glibc.close(fd); throw HTTPError(0, "cannot connect to 127.0.0.1:\(port)") }
        var tv = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    public static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Everything until the server closes; `received` sees the bytes so far after each read.
    public static func readAll(_ fd: Int32, received: ([UInt8]) -> Void = { _ in }) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += chunk[..<n]
            received(out)
        }
        return out
    }

    /// Sends `raw` as it is and reads the response until the server closes.
    public func exchange(_ raw: [UInt8]) throws -> Response? {
        let fd = try connect()
        defer { Glibc.close(fd) }
        Self.send(fd, raw)
        return Self.parse(Self.readAll(fd))
    }

    /// A well-formed request with `Connection: close`.
    public func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) throws -> Response? {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        return try exchange(Array((head + "\r\n" + (body ?? "")).utf8))
    }

    public static func parse(_ bytes: [UInt8]) -> Response? {
        guard let end = find(bytes, [13, 10, 13, 10]) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = head[0].split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            if let c = line.firstIndex(of: ":") {
                headers[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body = Array(bytes[(end + 4)...])
        if headers["transfer-encoding"] == "chunked" {
            var out: [UInt8] = [], i = 0
            while let lineEnd = find(Array(body[i...]), [13, 10]).map({ $0 + i }),
                  let size = Int(String(decoding: body[i..<lineEnd], as: UTF8.self), radix: 16), size > 0,
                  lineEnd + 2 + size <= body.count {
                out += body[(lineEnd + 2)..<(lineEnd + 2 + size)]
                i = lineEnd + 4 + size
                if i >= body.count { break }
            }
            body = out
        }
        return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    static func find(_ bytes: [UInt8], _ needle: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}
