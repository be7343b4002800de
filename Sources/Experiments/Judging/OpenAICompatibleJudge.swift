import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A judge behind any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp's server, …). Each
/// judge message is one request (temperature 0, a few tokens); the verdict is the first standalone "1" or "2"
/// of `choices[0].message.content`. The API key is read from the environment by the caller and held in memory
/// only: it is sent as `Authorization: Bearer …` and never written anywhere or put in an error message.
public struct OpenAICompatibleJudge: PairwiseJudge {
    /// The full chat-completions URL requests go to.
    public let endpoint: URL
    public let model: String
    /// Name of the environment variable the key came from (for error messages).
    public let keyVariable: String?
    private let apiKey: String?
    /// Reply tokens requested (`max_tokens`).
    public var maxTokens: Int
    /// Seconds before one request times out.
    public var timeout: Double
    /// Tries per request; transport failures, HTTP 429 and 5xx are retried, other statuses are not.
    public var attempts: Int
    /// Seconds before the first retry; doubles for each further one.
    public var retryDelay: Double

    public var label: String { "openai:\(model)" }

    /// `url` is the endpoint's base (`https://api.openai.com/v1`: `/chat/completions` is appended) or the full
    /// chat-completions URL. Throws when it is not an http(s) URL.
    public init(url: String, model: String, apiKey: String?, keyVariable: String? = nil, maxTokens: Int = 4,
                timeout: Double = 60, attempts: Int = 3, retryDelay: Double = 1) throws {
        endpoint = try Self.endpoint(for: url)
        self.model = model
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.keyVariable = keyVariable
        self.maxTokens = maxTokens
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.retryDelay = retryDelay
    }

    /// The key from the environment variable `keyVariable` (none when it is unset or empty: local servers
    /// usually need none).
    public init(url: String, model: String, keyVariable: String,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(url: url, model: model, apiKey: environment[keyVariable], keyVariable: keyVariable)
    }

    /// Whether a key will be sent.
    public var hasKey: Bool { apiKey != nil }

    /// The chat-completions URL for a base URL or a full one.
    public static func endpoint(for url: String) throws -> URL {
        var text = url.trimmingCharacters(in: .whitespaces)
        guard let parsed = URL(string: text), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              parsed.host != nil else {
            throw JudgeError("judge url \(url.debugDescription) is not an http:// or https:// URL")
        }
        while text.hasSuffix("/") { text.removeLast() }
        if !text.hasSuffix("/chat/completions") { text += "/chat/completions" }
        guard let full = URL(string: text) else { throw JudgeError("judge url \(url.debugDescription) is not a valid URL") }
        return full
    }

    public func verdicts(for messages: [String]) throws -> [JudgeVerdict] {
        try messages.map { JudgeVerdict(reply: try reply(to: $0)) }
    }

    /// The endpoint's reply text to one user message.
    public func reply(to message: String) throws -> String {
        let body = try ChatCompletionRequest(model: model, messages: [.init(role: "user", content: message)],
                                             temperature: 0, maxTokens: maxTokens).encoded()
        var request = URLRequest(url: endpoint, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        request.httpBody = body

        let where_ = "POST \(endpoint.absoluteString)"
        var lastError = JudgeError("\(where_): no attempt was made")
        for attempt in 1...attempts {
            if attempt > 1, retryDelay > 0 {
                Thread.sleep(forTimeInterval: retryDelay * pow(2, Double(attempt - 2)))
            }
            let (data, response, error) = Self.send(request, timeout: timeout)
            let tries = attempts > 1 ? " (attempt \(attempt) of \(attempts))" : ""
            if let error {
                lastError = JudgeError("\(where_) failed: \(error.localizedDescription)\(tries)")
                continue
            }
            guard let http = response as? HTTPURLResponse else {
                lastError = JudgeError("\(where_): no HTTP response\(tries)")
                continue
            }
            let status = http.statusCode
            guard (200..<300).contains(status) else {
                let snippet = String(decoding: (data ?? Data()).prefix(300), as: UTF8.self)
                var hint = ""
                if status == 401 || status == 403 {
                    let variable = keyVariable.map { "$\($0)" } ?? "the key variable"
                    hint = apiKey == nil ? " (no API key was sent: \(variable) is unset or empty)"
                                         : " (check the API key in \(variable))"
                }
                lastError = JudgeError("\(where_) answered HTTP \(status)\(hint)\(tries): \(snippet.debugDescription)")
                if status == 429 || status >= 500 { continue }
                throw lastError
            }
            return try ChatCompletionReply.content(of: data ?? Data(), endpoint: where_)
        }
        throw lastError
    }

    /// Sends one request and waits for it (URLSession's callback API; the judge runs on a worker thread).
    private static func send(_ request: URLRequest, timeout: Double) -> (Data?, URLResponse?, Error?) {
        final class Outcome: @unchecked Sendable {
            var data: Data?
            var response: URLResponse?
            var error: Error?
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            outcome.data = data
            outcome.response = response
            outcome.error = error
            done.signal()
        }
        task.resume()
        done.wait()
        return (outcome.data, outcome.response, outcome.error)
    }
}
