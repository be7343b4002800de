import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Pipeline
import Server
import Testing
import TestSupport

extension ServerSuites {
    /// `reptune serve` as a process: the official `openai` Python package (from the test virtualenv `make test`
    /// creates) and `curl` against it, steered text equal to `reptune generate --steer`, an API key, and a graceful
    /// stop on SIGTERM.
    @Suite struct ServerProcessTests {
        /// The test virtualenv's Python (`make test` creates it; `REPTUNE_OPENAI_PYTHON` overrides).
        static let python: String? = {
            if let p = ProcessInfo.processInfo.environment["REPTUNE_OPENAI_PYTHON"], !p.isEmpty { return p }
            let p = Fixtures.repoRoot.appendingPathComponent(".build/openai-venv/bin/python").path
            return FileManager.default.isExecutableFile(atPath: p) ? p : nil
        }()
        static let noPython: Comment = "SKIPPED: no test virtualenv with the openai package at .build/openai-venv (make test creates it: python3 -m venv + pip from PyPI; set REPTUNE_OPENAI_PYTHON to use another)"
        static let canRun = Fixtures.hasModel && CLI.executable != nil

        /// A `reptune serve` subprocess on a free port, stopped by SIGTERM.
        final class ServeProcess {
            let process = Process()
            let port: Int
            let stderr = Pipe()
            var log = ""

            init(_ extra: [String]) throws {
                process.executableURL = CLI.executable
                process.arguments = ["serve", Fixtures.defaultModel.path, "--port", "0"] + extra
                process.standardError = stderr
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                // The first line names the port.
                var text = ""
                let deadline = Date(timeIntervalSinceNow: 60)
                while !text.contains("\n") && Date() < deadline {
                    let data = stderr.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                log = text
                guard let r = text.range(of: "http://127.0.0.1:"),
                      let port = Int(text[r.upperBound...].prefix { $0.isNumber }) else {
                    process.terminate()
                    throw ServerTestError("reptune serve did not start: \(text)")
                }
                self.port = port
            }

            /// SIGTERM; the exit status and the rest of stderr.
            func stop() -> (status: Int32, log: String) {
                kill(process.processIdentifier, SIGTERM)
                let rest = stderr.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, log + String(decoding: rest, as: UTF8.self))
            }
        }

        static func run(_ executable: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
            let r = try CLI.run(executable: URL(fileURLWithPath: executable), args)
            return (r.status, r.stdout, r.stderr)
        }

        /// The vector file and chat the tests steer with, and `reptune generate --steer`'s text for them.
        static func steeredReference(_ dir: URL) throws -> (vector: URL, chat: URL, text: String, plain: String) {
            let f = try #require(ServerFixture.shared)
            let vector = dir.appendingPathComponent("steer.gguf")
            try? FileManager.default.removeItem(at: vector)
            try FileManager.default.copyItem(at: f.vectorFile, to: vector)
            let chat = dir.appendingPathComponent("chat.json")
            try Data(#"[{"role": "user", "content": "Describe a quiet morning."}]"#.utf8).write(to: chat)
            let steered = try CLI.run(["generate", Fixtures.defaultModel.path, "--chat", chat.path, "--steer", vector.path, "--layer", "10",
                                       "--mult", "16", "--max-tokens", "24"])
            let plain = try CLI.run(["generate", Fixtures.defaultModel.path, "--chat", chat.path, "--max-tokens", "24"])
            #expect(steered.status == 0 && plain.status == 0)
            return (vector, chat, String(steered.stdout.dropLast()), String(plain.stdout.dropLast()))
        }

        @Test(.enabled(if: canRun && python != nil, noPython)) func openAIPackage() throws {
            let dir = try Fixtures.temporaryDirectory("reptune-serve-openai")
            _ = try Store(directory: dir)
            let ref = try Self.steeredReference(dir)
            let server = try ServeProcess(["--results", dir.path, "--api-key", "sk-test"])
            let model = Fixtures.defaultModel.deletingPathExtension().lastPathComponent
            let script = Fixtures.repoRoot.appendingPathComponent("Tests/ServerTests/openai_client_check.py").path
            let r = try Self.run(Self.python!, [script, "http://127.0.0.1:\(server.port)/v1", "sk-test", model, "steer.gguf", "10", "16"])
            let stopped = server.stop()
            #expect(r.status == 0, "\(r.err)")
            let out = try JSONParser.parse(r.out)
            print("openai \(out["openai_version"]?.stringValue ?? "?"): steered \(out["steered"]?.stringValue?.debugDescription ?? "")")
            #expect(out["steered"]?.stringValue == ref.text, "openai package: \(out["steered"]?.stringValue ?? "nil"); generate --steer: \(ref.text)")
            #expect(out["plain"]?.stringValue == ref.plain)
            #expect(ref.text != ref.plain)
            #expect(out["streamed"]?.stringValue == ref.text)
            #expect(out["models"]?.arrayValue?.first?.stringValue == model)
            #expect(out["steered_echo"]?["steering"]?.arrayValue?.first?["layer"]?.intValue == 10)
            #expect(out["completion_logprobs"]?.intValue == 5)
            #expect(out["bad_layer"]?["status"]?.intValue == 400 && out["bad_layer"]?["param"]?.stringValue == "steering[0].layer")
            #expect(out["wrong_key"]?.intValue == 401)
            #expect(stopped.status == 0 && stopped.log.contains("stopped"), "\(stopped.log)")
        }

        /// curl: a chat completion, a stream, the vectors list, 401 without the key; then SIGTERM while a long
        /// request runs: the request completes and the server exits 0.
        @Test(.enabled(if: canRun && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs the model, reptune and /usr/bin/curl"))
        func curlAndGracefulStop() throws {
            let dir = try Fixtures.temporaryDirectory("reptune-serve-curl")
            _ = try Store(directory: dir)
            let ref = try Self.steeredReference(dir)
            let server = try ServeProcess(["--results", dir.path, "--api-key", "sk-test"])
            let url = "http://127.0.0.1:\(server.port)"
            let model = Fixtures.defaultModel.deletingPathExtension().lastPathComponent
            let body = #"{"model": "\#(model)", "messages": [{"role": "user", "content": "Describe a quiet morning."}], "max_tokens": 24, "temperature": 0, "steering": [{"vector": "steer.gguf", "layer": 10, "multiplier": 16}]}"#
            let auth = ["-H", "Authorization: Bearer sk-test"]
            let chat = try Self.run("/usr/bin/curl", ["-sS", "--max-time", "60", url + "/v1/chat/completions"] + auth + ["-H", "Content-Type: application/json", "-d", body])
            #expect(try JSONParser.parse(chat.out)["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == ref.text, "\(chat.out)")
            let streamBody = body.replacingOccurrences(of: "\"temperature\": 0", with: "\"temperature\": 0, \"stream\": true")
            let stream = try Self.run("/usr/bin/curl", ["-sSN", "--max-time", "60", url + "/v1/chat/completions"] + auth + ["-d", streamBody])
            let events = stream.out.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
            let text = events.dropLast().compactMap { try? JSONParser.parse($0) }
                .compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
            #expect(events.last == "[DONE]" && text == ref.text, "\(stream.out.prefix(400))")
            let noKey = try Self.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", url + "/health"])
            #expect(noKey.out == "401")
            let vectors = try Self.run("/usr/bin/curl", ["-sS", url + "/v1/steering/vectors"] + auth)
            #expect(try JSONParser.parse(vectors.out)["object"]?.stringValue == "list")
            // SIGTERM during a 400-token request: it still completes.
            let long = #"{"model": "\#(model)", "prompt": "Once upon a time", "max_tokens": 400, "temperature": 0}"#
            let finished = Locked<String>("")
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let r = try? Self.run("/usr/bin/curl", ["-sS", "--max-time", "120", url + "/v1/completions"] + auth + ["-d", long])
                finished.with { $0 = r?.out ?? "" }
                done.signal()
            }
            usleep(500_000)
            let stopped = server.stop()
            done.wait()
            let answer = try? JSONParser.parse(finished.value)
            #expect(answer?["usage"]?["completion_tokens"]?.intValue == 400 || answer?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop",
                    "the request in flight at SIGTERM: \(finished.value.prefix(300))")
            #expect(stopped.status == 0 && stopped.log.contains("finishing requests in flight") && stopped.log.contains("stopped"), "\(stopped.log)")
        }
    }
}
