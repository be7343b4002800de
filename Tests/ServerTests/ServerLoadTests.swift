import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Pipeline
import Server
import Testing
import TestSupport

extension ServerSuites {
    /// The server under load and abuse: 64 concurrent streaming clients, a slowloris client, 1,000 malformed
    /// requests, and errors in OpenAI's shape naming the field.
    @Suite struct ServerLoadTests {
        /// 64 clients stream at once (sampled, each its own seed): every stream is complete — a role chunk, content,
        /// a finish reason, `data: [DONE]` — and the server is healthy after.
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func sixtyFourStreamingClients() throws {
            let f = try #require(ServerFixture.shared)
            let failures = Locked<[String]>([])
            let started = Date()
            concurrently(64) { i in
                let body = """
                    {"model": "\(f.baseName)", "messages": [{"role": "user", "content": "Say something about the number \(i)."}],
                     "max_tokens": 8, "temperature": 0.8, "seed": \(i), "stream": true, "stream_options": {"include_usage": true}}
                    """
                guard let r = try? f.post("/v1/chat/completions", body) else { failures.with { $0.append("\(i): no response") }; return }
                let events = r.events
                let chunks = events.dropLast().compactMap { try? JSONParser.parse($0) }
                let finish = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
                let usage = chunks.last?["usage"]?["completion_tokens"]?.intValue ?? 0
                if r.status != 200 || events.last != "[DONE]" || chunks.count != events.count - 1 || finish.count != 1
                    || chunks.first?["choices"]?.arrayValue?.first?["delta"]?["role"]?.stringValue != "assistant" || !(1...8).contains(usage) {
                    failures.with { $0.append("\(i): status \(r.status), \(events.count) events, finish \(finish), usage \(usage)") }
                }
            }
            #expect(failures.value.isEmpty, "\(failures.value.prefix(5))")
            let health = try f.client.request("GET", "/health")
            #expect(health?.status == 200 && health?.json?["status"]?.stringValue == "ok")
            print("64 streaming clients: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }

        /// A client dribbling its headers a byte every 0.3 s holds one connection only: other requests finish as
        /// fast as without it (bound: 4 s each for 8 tokens, a few hundred ms on this model), and the slow client is
        /// cut off with 408 at the request timeout (3 s here).
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func slowlorisDoesNotDelayOthers() throws {
            let f = try #require(ServerFixture.shared)
            let slow = Locked<(status: Int, seconds: Double)>((0, 0))
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let start = Date()
                guard let fd = try? f.client.connect() else { done.signal(); return }
                defer { close(fd) }
                for byte in Array("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n".utf8) {
                    LoopbackClient.send(fd, [byte])
                    usleep(300_000)
                    // Stop dribbling once the server has answered (or after 8 s).
                    var peek: UInt8 = 0
                    if recv(fd, &peek, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0 || Date().timeIntervalSince(start) > 8 { break }
                }
                let r = LoopbackClient.parse(LoopbackClient.readAll(fd))
                slow.with { $0 = (r?.status ?? 0, Date().timeIntervalSince(start)) }
                done.signal()
            }
            usleep(200_000)
            var latencies: [Double] = []
            for i in 0..<8 {
                let t = Date()
                let r = try f.post("/v1/completions", #"{"model": "\#(f.baseName)", "prompt": "Count: \#(i)", "max_tokens": 8, "temperature": 0}"#)
                latencies.append(Date().timeIntervalSince(t))
                #expect(r.status == 200)
            }
            #expect(latencies.allSatisfy { $0 < 4 }, "latencies \(latencies)")
            done.wait()
            #expect(slow.value.status == 408, "the slow client got \(slow.value.status)")
            #expect(slow.value.seconds < 6, "the slow client was held \(slow.value.seconds) s")
        }

        /// 1,000 malformed requests — fuzzed JSON bodies, wrong types, unknown fields, bad steering, broken headers,
        /// request lines and chunked encodings — get only 4xx, and the server still answers.
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func fuzzedRequestsGetOnly4xx() throws {
            let f = try #require(ServerFixture.shared)
            let requests = MalformedRequests.generate(count: 1000, model: f.baseName, seed: 21)
            let bad = Locked<[String]>([])
            concurrently(8) { part in
                for k in stride(from: part, to: requests.count, by: 8) {
                    let status = (try? f.client.exchange(requests[k].bytes))??.status ?? 0
                    if !(400..<500).contains(status) {
                        bad.with { $0.append("\(requests[k].kind): \(status) for \(String(decoding: requests[k].bytes.prefix(160), as: UTF8.self).debugDescription)") }
                    }
                }
            }
            #expect(bad.value.isEmpty, "\(bad.value.count) not 4xx: \(bad.value.prefix(5))")
            #expect(try f.client.request("GET", "/health")?.status == 200)
            let ok = try f.post("/v1/completions", #"{"model": "\#(f.baseName)", "prompt": "Hello", "max_tokens": 3, "temperature": 0}"#)
            #expect(ok.status == 200)
        }

        /// Errors are OpenAI-shaped and name the field: status, param and a message saying what was expected.
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func errorsNameTheField() throws {
            let f = try #require(ServerFixture.shared)
            let m = f.baseName
            let cases: [(body: String, status: Int, param: String?, says: String)] = [
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "tools": []}"#, 400, "tools", "unsupported field"),
                (#"{"model": "\#(m)", "messages": "hi"}"#, 400, "messages", "expected a non-empty array"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "ten"}"#, 400, "max_tokens", "found string"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "steering": [{"vector": "steer.gguf", "layer": 99}]}"#, 400, "steering[0].layer", "out of range"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "steering": [{"vector": "nope", "layer": 3}]}"#, 404, "steering[0].vector", "no vectors stage or file"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "steering": [{"vector": "steer.gguf", "layer": 4}]}"#, 400, "steering[0].layer", "no direction for layer 4"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "steering": [{"vector": [1, 2], "layer": 4}]}"#, 400, "steering[0].vector", "expected 576 numbers"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "steering": [{"vector": "steer.gguf", "layer": 3, "multiplier": 1e30}]}"#, 400, "steering[0].multiplier", "overflows"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "logprobs": true, "top_logprobs": 21}"#, 400, "top_logprobs", "0...20"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "n": 2}"#, 400, "n", "only 1"),
                (#"{"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}"#, 404, "model", "no model"),
                (#"{"model": "\#(m)", "prompt": "hi", "max_tokens": 200}"#, 400, "prompt", "maximum context length"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}"#, 400, "max_tokens", "more than this server allows"),
                (#"{"model": "\#(m)", "messages": [{"role": "user", "content": "hi"}"#, 400, nil, "not valid JSON"),
            ]
            for (k, c) in cases.enumerated() {
                let path = c.body.contains("\"prompt\"") ? "/v1/completions" : "/v1/chat/completions"
                var body = c.body
                if k == 11 { body = #"{"model": "\#(m)", "prompt": "\#(String(repeating: "word ", count: 8200))", "max_tokens": 200}"# }
                let r = try f.post(path, body)
                let error = r.json?["error"]
                #expect(r.status == c.status, "case \(k): \(r.status) \(r.body.prefix(300))")
                #expect(error?["param"]?.stringValue == c.param, "case \(k): \(r.body.prefix(300))")
                #expect(error?["message"]?.stringValue?.contains(c.says) == true, "case \(k): \(r.body.prefix(300))")
                #expect(error?["type"]?.stringValue != nil)
            }
            #expect(try f.client.request("DELETE", "/v1/models")?.status == 405)
            #expect(try f.client.request("GET", "/v2/nothing")?.status == 404)
        }
    }
}
