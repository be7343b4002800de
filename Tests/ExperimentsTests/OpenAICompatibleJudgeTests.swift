import Foundation
import Testing
import Experiments
import TestSupport

/// The chat-completions judge against a local HTTP server (no internet): request shape, key header, both
/// orders, and clear errors for HTTP failures and malformed replies.
@Suite("Judging: OpenAI-compatible HTTP judge")
struct OpenAICompatibleJudgeTests {
    /// A server judging like an honest grader: the continuation that says "truth" is more honest.
    static func honestServer() throws -> LocalHTTPServer {
        try LocalHTTPServer { request in
            guard let json = try? JSONSerialization.jsonObject(with: request.body) as? [String: Any],
                  let messages = json["messages"] as? [[String: Any]], let content = messages.first?["content"] as? String,
                  let one = content.range(of: "Continuation 1:\n"), let two = content.range(of: "Continuation 2:\n") else {
                return LocalHTTPServer.Response(status: 400, body: "{\"error\": \"bad request\"}")
            }
            let first = content[one.upperBound..<two.lowerBound]
            if first.contains("truth") { return .chatCompletion("1") }
            if content[two.upperBound...].contains("truth") { return .chatCompletion("Continuation 2 is more honest.") }
            return .chatCompletion("They are equally honest.")
        }
    }

    @Test func judgesBothOrdersAndSendsTheExpectedRequests() throws {
        let server = try Self.honestServer()
        defer { server.stop() }
        let judge = try OpenAICompatibleJudge(url: server.baseURL + "/v1/", model: "judge-model", keyVariable: "TEST_JUDGE_KEY",
                                              environment: ["TEST_JUDGE_KEY": "sk-test-123"])
        #expect(judge.label == "openai:judge-model")
        #expect(judge.endpoint.absoluteString == server.baseURL + "/v1/chat/completions")
        let items = [
            JudgeItem(item: 0, prompt: "Did you break the vase?", a: "Yes, I tell the truth: I did.", b: "No, the cat did."),
            JudgeItem(item: 1, prompt: "Is the resort clean?", a: "Spotless!", b: "Honestly, the truth is it has complaints."),
            JudgeItem(item: 2, prompt: "Q", a: "maybe", b: "perhaps"),
        ]
        var progress: [Int] = []
        let judged = try judge.judge(items, batchItems: 2) { done, total in
            #expect(total == 3)
            progress.append(done)
        }
        #expect(progress == [2, 3])
        #expect(judged.map(\.item) == [0, 1, 2])
        #expect(judged.map(\.ab) == [.first, .second, .undecided])
        #expect(judged.map(\.ba) == [.second, .first, .undecided])
        #expect(judged.map(\.score) == [1, -1, 0])

        let requests = server.requests
        #expect(requests.count == 6)
        let prompt = JudgePrompt()
        let expectedMessages = items.flatMap { [prompt.text(for: $0, order: .ab), prompt.text(for: $0, order: .ba)] }
        for (request, message) in zip(requests, expectedMessages) {
            #expect(request.method == "POST")
            #expect(request.path == "/v1/chat/completions")
            #expect(request.headers["authorization"] == "Bearer sk-test-123")
            #expect(request.headers["content-type"] == "application/json")
            let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(body["model"] as? String == "judge-model")
            #expect(body["temperature"] as? Double == 0)
            #expect(body["max_tokens"] as? Int == 4)
            let messages = try #require(body["messages"] as? [[String: Any]])
            #expect(messages.count == 1)
            #expect(messages.first?["role"] as? String == "user")
            #expect(messages.first?["content"] as? String == message)
        }
    }

    @Test func fullURLIsUsedAsIsAndNoKeyMeansNoHeader() throws {
        let server = try LocalHTTPServer { _ in .chatCompletion("2") }
        defer { server.stop() }
        let judge = try OpenAICompatibleJudge(url: server.baseURL + "/api/chat/completions", model: "m",
                                              keyVariable: "UNSET_JUDGE_KEY", environment: [:])
        #expect(!judge.hasKey)
        #expect(try judge.verdicts(for: ["x"]) == [.second])
        #expect(server.requests.first?.path == "/api/chat/completions")
        #expect(server.requests.first?.headers["authorization"] == nil)
        #expect(throws: JudgeError.self) { try OpenAICompatibleJudge(url: "ftp://example.com", model: "m", apiKey: nil) }
        #expect(throws: JudgeError.self) { try OpenAICompatibleJudge(url: "not a url", model: "m", apiKey: nil) }
    }

    @Test func serverErrorsAreRetriedThenNamedWithURLAndStatus() throws {
        let server = try LocalHTTPServer { _ in LocalHTTPServer.Response(status: 500, body: "{\"error\": \"overloaded\"}") }
        defer { server.stop() }
        let judge = try OpenAICompatibleJudge(url: server.baseURL, model: "m", apiKey: "sk-secret-999", attempts: 3, retryDelay: 0)
        let error = try #require(throws: JudgeError.self) { try judge.reply(to: "hello") }
        #expect(server.requests.count == 3)
        let text = error.description
        #expect(text.contains("POST \(server.baseURL)/chat/completions"), "\(text)")
        #expect(text.contains("HTTP 500"), "\(text)")
        #expect(text.contains("overloaded"), "\(text)")
        #expect(text.contains("attempt 3 of 3"), "\(text)")
        #expect(!text.contains("sk-secret-999"))
    }

    @Test func unauthorizedIsNotRetriedAndNamesTheKeyVariable() throws {
        let server = try LocalHTTPServer { _ in LocalHTTPServer.Response(status: 401, body: "{\"error\": \"invalid key\"}") }
        defer { server.stop() }
        let judge = try OpenAICompatibleJudge(url: server.baseURL, model: "m", keyVariable: "MY_JUDGE_KEY", environment: [:])
        let error = try #require(throws: JudgeError.self) { try judge.verdicts(for: ["a"]) }
        #expect(server.requests.count == 1)
        #expect(error.description.contains("HTTP 401"))
        #expect(error.description.contains("$MY_JUDGE_KEY is unset"), "\(error)")
    }

    @Test func malformedRepliesAreClearErrors() throws {
        let bodies = ["this is not json", "{\"choices\": []}", "{\"choices\": [{\"message\": {\"content\": 7}}]}", "[1, 2]"]
        let expected = ["malformed JSON", "at least one object in `choices`", "a string `choices[0].message.content`",
                        "expected a JSON object"]
        for (body, what) in zip(bodies, expected) {
            let server = try LocalHTTPServer { _ in LocalHTTPServer.Response(body: body) }
            defer { server.stop() }
            let judge = try OpenAICompatibleJudge(url: server.baseURL, model: "m", apiKey: nil, retryDelay: 0)
            let error = try #require(throws: JudgeError.self) { try judge.reply(to: "q") }
            #expect(error.description.contains(what), "\(error)")
            #expect(error.description.contains(server.baseURL + "/chat/completions"), "\(error)")
            #expect(server.requests.count == 1, "a malformed reply is not retried")
        }
        // A null content (a refusal) is an undecided verdict, not an error.
        let server = try LocalHTTPServer { _ in LocalHTTPServer.Response(body: "{\"choices\": [{\"message\": {\"content\": null}}]}") }
        defer { server.stop() }
        #expect(try OpenAICompatibleJudge(url: server.baseURL, model: "m", apiKey: nil).verdicts(for: ["q"]) == [.undecided])
    }

    @Test func unreachableServerNamesTheURL() throws {
        let server = try LocalHTTPServer { _ in .chatCompletion("1") }
        let url = server.baseURL
        server.stop()
        let judge = try OpenAICompatibleJudge(url: url, model: "m", apiKey: nil, timeout: 5, attempts: 2, retryDelay: 0)
        let error = try #require(throws: JudgeError.self) { try judge.reply(to: "q") }
        #expect(error.description.contains("POST \(url)/chat/completions failed"), "\(error)")
        #expect(error.description.contains("attempt 2 of 2"), "\(error)")
    }
}
