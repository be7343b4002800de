import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune bench --serve`: the server against the engine in one run. For 1, 4 and 16 concurrent clients,
/// aggregate generated tokens/s through HTTP (each client one greedy completion of `tokens` tokens, no stop
/// token) next to the engine's own batched `generate` of the same prompts at the same batch size; time to first
/// token at 16 streaming clients; and 16 clients each steered by their own vector against 16 unsteered.
public struct ServeBenchmark {
    public struct Figure: Sendable {
        public var name: String
        public var value: Double
        public var unit: String
        public var note: String
    }

    public var language: LanguageModel
    public var tokens = 64
    public var clientCounts = [1, 4, 16]
    public var repeats = 2

    public init(language: LanguageModel) { self.language = language }

    /// Distinct prompts of similar length.
    func prompts(_ n: Int) -> [String] {
        let subjects = ["the sea", "a mountain", "a city at night", "an old library", "the first snow", "a train journey",
                        "a garden in spring", "the desert", "a lighthouse", "a market", "the moon", "a forest path",
                        "a small boat", "a storm", "a bakery", "a clock tower"]
        return (0..<n).map { "Here is a long story about \(subjects[$0 % subjects.count]) (part \($0 / subjects.count + 1)):" }
    }

    public func run(report: (Figure) -> Void) throws -> [Figure] {
        var figures: [Figure] = []
        func add(_ f: Figure) { figures.append(f); report(f) }
        var settings = ReptuneServer.Settings()
        settings.port = 0
        settings.maxBatch = clientCounts.max() ?? 16
        settings.maxTokens = tokens
        let server = try ReptuneServer(language: language, library: SteeringLibrary(), settings: settings)
        try server.start()
        defer { server.stop() }
        let client = LoopbackClient(port: server.port)
        let model = server.catalog.names[0]
        let network = language.network
        let d = network.config.embeddingLength
        // Warm up both paths.
        _ = network.generate([GenerationRequest(prompt: encode("Hello"))], options: GenerationOptions(maxNewTokens: 4))
        _ = try client.request("POST", "/v1/completions", body: completionBody(model, "Hello", steering: nil, stream: false))

        var rng = SeededGenerator(seed: 21)
        let layer = network.config.blockCount / 2
        let vectors: [[Float]] = (0..<16).map { _ in
            let v = (0..<d).map { _ in rng.nextUnit() * 2 - 1 }
            let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        for n in clientCounts {
            let texts = prompts(n)
            // The engine alone: one batched generate of the same prompts, interleaved with the served runs.
            let requests = texts.map { GenerationRequest(prompt: encode($0)) }
            var engine = Rate(), served = Rate()
            for _ in 0..<repeats {
                engine.keepBest(measure {
                    network.generate(requests, options: GenerationOptions(maxNewTokens: tokens)).reduce(0) { $0 + $1.tokens.count }
                })
                let r = try measure { try clients(texts, model: model, client: client, steering: nil, stream: false).tokens }
                served.keepBest(r)
            }
            add(Figure(name: "engine generate \(n)×\(tokens)", value: engine.perSecond, unit: "tok/s",
                       note: String(format: "batched generate, batch %d; %.0f tok per CPU-s", n, engine.perCPUSecond)))
            add(Figure(name: "served \(n) client\(n == 1 ? "" : "s")", value: served.perSecond, unit: "tok/s",
                       note: String(format: "%.2f× the engine (goal ≥ 0.85×); per CPU-second %.2f×", served.perSecond / engine.perSecond,
                                    served.perCPUSecond / engine.perCPUSecond)))
        }
        // Time to first token, 16 streaming clients arriving together.
        let n = clientCounts.max() ?? 16
        let texts = prompts(n)
        let streamed = try clients(texts, model: model, client: client, steering: nil, stream: true)
        let sorted = streamed.ttft.sorted()
        add(Figure(name: "TTFT \(n) clients median", value: sorted[sorted.count / 2] * 1000, unit: "ms", note: "streaming, all sent at once"))
        add(Figure(name: "TTFT \(n) clients max", value: (sorted.last ?? 0) * 1000, unit: "ms", note: "the last prompt prefilled"))
        // Steering overhead: every client its own vector at the middle block, against none; pairs interleaved, the
        // median ratio of CPU time per generated token (the machine is shared: wall time moves with other load).
        var plain = Rate(), steered = Rate(), ratios: [Double] = [], wallRatios: [Double] = []
        for _ in 0..<max(3, repeats) {
            let p = try measure { try clients(texts, model: model, client: client, steering: nil, stream: false).tokens }
            let s = try measure { try clients(texts, model: model, client: client, steering: { i in (vectors[i % vectors.count], layer) }, stream: false).tokens }
            plain.keepBest(p)
            steered.keepBest(s)
            ratios.append(s.perCPUSecond / p.perCPUSecond)
            wallRatios.append(s.perSecond / p.perSecond)
        }
        let median = ratios.sorted()[ratios.count / 2], wallMedian = wallRatios.sorted()[wallRatios.count / 2]
        add(Figure(name: "served \(n) unsteered", value: plain.perSecond, unit: "tok/s", note: String(format: "%.0f tok per CPU-s", plain.perCPUSecond)))
        add(Figure(name: "served \(n) steered", value: steered.perSecond, unit: "tok/s",
                   note: String(format: "%.0f tok per CPU-s; each its own vector at block %d", steered.perCPUSecond, layer)))
        add(Figure(name: "steering overhead", value: (1 - median) * 100, unit: "%",
                   note: String(format: "median of %d interleaved pairs, CPU time per token (goal ≤ 5%%); wall clock %.1f%%",
                                ratios.count, (1 - wallMedian) * 100)))
        return figures
    }

    /// Tokens generated over wall-clock and CPU time (the process's user + system time).
    struct Rate {
        var tokens = 0, seconds = 0.0, cpuSeconds = 0.0
        var perSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
        var perCPUSecond: Double { cpuSeconds > 0 ? Double(tokens) / cpuSeconds : 0 }
        mutating func keepBest(_ r: Rate) { if r.perSecond > perSecond { self = r } }
    }

    private func measure(_ body: () throws -> Int) rethrows -> Rate {
        func cpu() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let start = Date(), cpuStart = cpu()
        let tokens = try body()
        return Rate(tokens: tokens, seconds: Date().timeIntervalSince(start), cpuSeconds: cpu() - cpuStart)
    }

    private func encode(_ text: String) -> [Int] {
        language.tokenizer.encode(text, addBOS: language.tokenizer.vocabulary.addBOS, parseSpecial: true)
    }

    private func completionBody(_ model: String, _ prompt: String, steering: ([Float], Int)?, stream: Bool) -> String {
        var body = #"{"model": \#(JSONStringLiteral.quoted(model)), "prompt": \#(JSONStringLiteral.quoted(prompt)), "max_tokens": \#(tokens), "temperature": 0, "stream": \#(stream)"#
        if let (v, layer) = steering {
            body += #", "steering": [{"vector": [\#(v.map { "\($0)" }.joined(separator: ","))], "layer": \#(layer), "multiplier": 4}]"#
        }
        return body + "}"
    }

    /// All `texts` sent at once, one client each: the tokens generated, and each client's time to first token
    /// (streams) or to its answer.
    private func clients(_ texts: [String], model: String, client: LoopbackClient, steering: ((Int) -> ([Float], Int))?,
                         stream: Bool) throws -> (tokens: Int, ttft: [Double]) {
        let bodies = texts.indices.map { completionBody(model, texts[$0], steering: steering?($0), stream: stream) }
        let outcome = Locked((tokens: 0, ttft: [Double](), failures: [String]()))
        concurrently(bodies.count) { i in
            let sent = Date()
            do {
                let fd = try client.connect()
                defer { close(fd) }
                let body = Array(bodies[i].utf8)
                LoopbackClient.send(fd, Array("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
                var first: Double?
                let bytes = LoopbackClient.readAll(fd) { sofar in
                    if first == nil, stream, String(decoding: sofar, as: UTF8.self).components(separatedBy: "data: ").count > 2 {
                        first = Date().timeIntervalSince(sent)
                    }
                }
                guard let r = LoopbackClient.parse(bytes), r.status == 200 else {
                    outcome.with { $0.failures.append("status \(LoopbackClient.parse(bytes)?.status ?? 0)") }
                    return
                }
                let generated: Int
                if stream {
                    generated = r.events.dropLast().compactMap { try? JSONParser.parse($0) }.filter {
                        !($0["choices"]?.arrayValue?.first?["text"]?.stringValue ?? "").isEmpty
                    }.count
                } else {
                    generated = r.json?["usage"]?["completion_tokens"]?.intValue ?? 0
                }
                let ttft = first ?? Date().timeIntervalSince(sent)
                outcome.with { $0.tokens += generated; $0.ttft.append(ttft) }
            } catch {
                outcome.with { $0.failures.append("\(error)") }
            }
        }
        let o = outcome.value
        if let failure = o.failures.first { throw HTTPError(0, "bench --serve: a client failed: \(failure)") }
        return (o.tokens, o.ttft)
    }
}
