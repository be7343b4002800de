import Foundation

/// Malformed HTTP requests for the fuzz test, each malformed by construction (so a 2xx is always a defect):
/// truncated or garbage JSON, wrong types, unknown fields, bad steering, broken request lines and headers,
/// oversized heads and bodies, broken chunked encodings.
enum MalformedRequests {
    struct Request {
        var kind: String
        var bytes: [UInt8]
    }

    static func generate(count: Int, model: String, seed: UInt64) -> [Request] {
        var rng = SplitMix(seed: seed)
        let valid = #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"temperature":0}"#
        func http(_ body: [UInt8], path: String = "/v1/chat/completions", extra: String = "") -> [UInt8] {
            Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(extra)Content-Length: \(body.count)\r\n\r\n".utf8) + body
        }
        func pick<T>(_ a: [T]) -> T { a[rng.below(a.count)] }
        let wrongTypes: [(String, String)] = [
            ("model", "3"), ("messages", "{}"), ("messages", "[]"), ("messages", #"[{"role":"wizard","content":"x"}]"#),
            ("messages", #"[{"role":"user"}]"#), ("messages", #"[{"role":"user","content":5}]"#), ("stream", #""yes""#),
            ("max_tokens", "0"), ("max_tokens", "-3"), ("max_tokens", "2.5"), ("temperature", "3"), ("temperature", #""hot""#),
            ("top_p", "0"), ("top_p", "1.5"), ("seed", #""s""#), ("stop", "[1]"), ("stop", #"["a","b","c","d","e"]"#),
            ("n", "3"), ("logprobs", "1"), ("top_logprobs", "50"), ("stream_options", #"{"x":1}"#), ("steering", "{}"),
            ("presence_penalty", "1"), ("user", "7"),
        ]
        let badSteering = [
            #"[{"vector":"steer.gguf","layer":-1}]"#, #"[{"vector":"steer.gguf","layer":1000}]"#, #"[{"vector":"steer.gguf"}]"#,
            #"[{"layer":3}]"#, #"[{"vector":"missing-vector","layer":3}]"#, #"[{"vector":[1,2,3],"layer":3}]"#,
            #"[{"vector":"steer.gguf","layer":3,"multiplier":"big"}]"#, #"[{"vector":"steer.gguf","layer":3,"positions":"some"}]"#,
            #"[{"vector":"steer.gguf","layer":3,"extra":1}]"#, #"[{"vector":"../../etc/passwd","layer":3}]"#, "[5]",
            #"[{"vector":"steer.gguf","layer":7}]"#, #"[{"vector":"steer.gguf","layer":3,"multiplier":1e39}]"#,
        ]
        var out: [Request] = []
        for k in 0..<count {
            switch k % 12 {
            case 0:
                let bytes = Array(valid.utf8)
                out.append(Request(kind: "truncated JSON", bytes: http(Array(bytes[..<(1 + rng.below(bytes.count - 1))]))))
            case 1:
                let (field, value) = pick(wrongTypes)
                let body = valid.replacingOccurrences(of: "\"max_tokens\":4", with: "\"max_tokens\":4,\"\(field)\":\(value)")
                    .replacingOccurrences(of: ",\"max_tokens\":4,\"max_tokens\"", with: ",\"max_tokens\"")
                out.append(Request(kind: "wrong type \(field)", bytes: http(Array(body.utf8))))
            case 2:
                let name = "x_" + String(rng.next() % 100_000)
                out.append(Request(kind: "unknown field", bytes: http(Array(valid.replacingOccurrences(of: "{\"model\"", with: "{\"\(name)\":1,\"model\"").utf8))))
            case 3:
                let body = valid.replacingOccurrences(of: "\"temperature\":0", with: "\"temperature\":0,\"steering\":\(pick(badSteering))")
                out.append(Request(kind: "bad steering", bytes: http(Array(body.utf8))))
            case 4:
                var bytes: [UInt8] = [UInt8(ascii: "#")]
                for _ in 0..<rng.below(200) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
                out.append(Request(kind: "garbage body", bytes: http(bytes, path: pick(["/v1/chat/completions", "/v1/completions"]))))
            case 5:
                let headers = ["Bad Header: x\r\n", "NoColon\r\n", ": empty\r\n", "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n",
                               "X(y): 1\r\n", "Transfer-Encoding: gzip\r\n"]
                let h = pick(headers)
                var raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(h)"
                if h.hasPrefix("Content-Length") || h.hasPrefix("Transfer-Encoding") {
                    raw += "Content-Length: \(valid.utf8.count)\r\n\r\n\(valid)"   // conflicting lengths / both framings
                } else {
                    raw += "Content-Length: \(valid.utf8.count)\r\n\r\n\(valid)"
                }
                out.append(Request(kind: "bad header \(h.debugDescription)", bytes: Array(raw.utf8)))
            case 6:
                let lines = ["GET/ HTTP/1.1", "get /health HTTP/1.1", "GET /health", "GET /health HTTP/9.9", "GET health HTTP/1.1",
                             "GET  /health HTTP/1.1", "BREW /v1/models HTTP/1.1", "GET /health FTP/1.0", "\u{1}\u{2} / HTTP/1.1"]
                out.append(Request(kind: "bad request line", bytes: Array("\(pick(lines))\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)))
            case 7:
                let lengths = ["abc", "-1", "1e3", "", "99999999999999", "5, 6", "0x10"]
                out.append(Request(kind: "bad Content-Length", bytes: Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(pick(lengths))\r\n\r\n{}".utf8)))
            case 8:
                let body = Array(valid.utf8)
                let cut = 1 + rng.below(body.count - 2)
                let chunked: String = switch rng.below(4) {
                case 0: "zz\r\n\(valid)\r\n0\r\n\r\n"
                case 1: "\(String(cut, radix: 16))\r\n\(valid)\r\n0\r\n\r\n"          // chunk longer than declared
                case 2: "FFFFFFFFFFFF\r\n\(valid)\r\n0\r\n\r\n"
                default: "\(String(cut, radix: 16))\r\n\(String(decoding: body[..<cut], as: UTF8.self))\r\n0\r\n\r\n"   // truncated JSON
                }
                out.append(Request(kind: "bad chunked", bytes: Array("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n\(chunked)".utf8)))
            case 9:
                if rng.below(2) == 0 {
                    out.append(Request(kind: "oversized head", bytes: Array("GET /health HTTP/1.1\r\nX-Pad: \(String(repeating: "a", count: 20_000))\r\nConnection: close\r\n\r\n".utf8)))
                } else {
                    out.append(Request(kind: "oversized body", bytes: Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 50000000\r\n\r\n{".utf8)))
                }
            case 10:
                var head = Array("POST /v1/chat/completions HTTP/1.1\r\nHost: ".utf8)
                head += [0xFF, 0xFE, 0xC3]
                out.append(Request(kind: "invalid UTF-8 head", bytes: head + Array("\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}".utf8)))
            default:
                let bodies = ["[]", "null", "\"text\"", #"{"messages":[{"role":"user","content":"hi"}]}"#, #"{"model":"\#(model)"}"#,
                              #"{"model":"\#(model)","prompt":"hi"}"#, #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}],"model":"x"}"#]
                out.append(Request(kind: "wrong shape", bytes: http(Array(pick(bodies).utf8))))
            }
        }
        return out
    }
}
