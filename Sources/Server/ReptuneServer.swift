import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune serve`: an OpenAI-compatible HTTP API over one model, its tuned variants and the stored steering
/// vectors of a results directory. Endpoints: `GET /health`, `GET /v1/models`, `GET /v1/steering/vectors`,
/// `POST /v1/chat/completions`, `POST /v1/completions` (both streamed as server-sent events with `"stream": true`).
public final class ReptuneServer: @unchecked Sendable {
    /// What `reptune serve`'s options set.
    public struct Settings: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// When set, every request must carry `Authorization: Bearer <apiKey>` (else 401).
        public var apiKey: String?
        public var maxBatch = 16
        /// Most tokens one request may generate (and a chat completion's default).
        public var maxTokens = 512
        public var maxConnections = 256
        public var limits = HTTPLimits()
        public init() {}
    }

    public let settings: Settings
    public let catalog: ModelCatalog
    public let library: SteeringLibrary
    public let batch: ContinuousBatch
    private var http: HTTPServer!
    private let started = Int(Date().timeIntervalSince1970)

    public init(language: LanguageModel, library: SteeringLibrary, settings: Settings) throws {
        self.settings = settings
        self.library = library
        catalog = try ModelCatalog(language: language, library: library)
        batch = ContinuousBatch(variants: catalog.variants, maxBatch: settings.maxBatch)
    }

    /// The port listened on (useful with port 0).
    public var port: Int { http.port }

    /// Starts the engine thread and listens.
    public func start() throws {
        batch.start()
        http = HTTPServer(limits: settings.limits, maxConnections: settings.maxConnections,
                          handler: { [self] request, responder in try handle(request, responder) },
                          onBadRequest: { APIError($0).response })
        do { try http.start(host: settings.host, port: settings.port) } catch {
            batch.stop()
            throw error
        }
    }

    /// Graceful stop: no new connections, requests in flight finish (up to `timeout`), then the engine ends.
    public func stop(timeout: TimeInterval = 120) {
        http?.stop(timeout: timeout)
        batch.stop()
    }

    private func handle(_ request: HTTPRequest, _ responder: HTTPResponder) throws {
        do {
            if let key = settings.apiKey {
                let given = request.header("authorization") ?? ""
                guard Self.constantTimeEqual(given, "Bearer " + key) else {
                    throw APIError(401, given.isEmpty ? "missing Authorization: Bearer <key> header" : "incorrect API key",
                                   code: "invalid_api_key")
                }
            }
            let routes: [String: String] = [
                "/health": "GET", "/v1/models": "GET", "/v1/steering/vectors": "GET",
                "/v1/chat/completions": "POST", "/v1/completions": "POST",
            ]
            guard let method = routes[request.path] else {
                throw APIError(404, "no endpoint \(request.path.prefix(100)) (endpoints: \(routes.keys.sorted().joined(separator: ", ")))",
                               code: "unknown_url")
            }
            guard request.method == method else {
                throw APIError(405, "\(request.path) takes \(method), not \(request.method)", code: "method_not_allowed")
            }
            switch request.path {
            case "/health":
                let load = batch.load
                try responder.send(.json(200, CanonicalJSON.encode(.object([
                    "status": "ok", "queued": .int(load.queued), "running": .int(load.running),
                    "connections": .int(http.openConnections), "generated_tokens": .int(batch.generatedTokens),
                ]))))
            case "/v1/models":
                try responder.send(.json(200, CanonicalJSON.encode(modelsList())))
            case "/v1/steering/vectors":
                try responder.send(.json(200, CanonicalJSON.encode(vectorsList())))
            default:
                let parsed = try CompletionRequest(kind: request.path == "/v1/chat/completions" ? .chat : .text, body: request.body)
                let plan = try CompletionPlan(parsed, catalog: catalog, library: library, maxTokens: settings.maxTokens)
                try CompletionSession(plan: plan, request: parsed, tokenizer: catalog.language.tokenizer, batch: batch).run(responder)
            }
        } catch let error as APIError {
            guard !responder.started else { throw error }
            try responder.send(error.response)
        }
    }

    private func modelsList() -> JSONValue {
        .object([
            "object": "list",
            "data": .array(catalog.names.enumerated().map { i, name in
                .object(["id": .string(name), "object": "model", "created": .int(started), "owned_by": "reptune",
                         "reptune": .object(["kind": .string(i == 0 ? "base" : "tuned"),
                                             "base": .string(catalog.names[0])])])
            }),
        ])
    }

    private func vectorsList() -> JSONValue {
        .object([
            "object": "list",
            "data": .array(library.vectors.map { set in
                .object([
                    "id": .string(set.name), "object": "steering.vector", "file": .string(set.file),
                    "layers": .array(set.diagnostics.map { d in
                        .object(["layer": .int(d.layer), "norm": d.norm.map(JSONValue.double) ?? .null,
                                 "auroc": d.auroc.map(JSONValue.double) ?? .null])
                    }),
                ])
            }),
        ])
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<min(x.count, y.count) { diff |= Int(x[i] ^ y[i]) }
        return diff == 0
    }
}
