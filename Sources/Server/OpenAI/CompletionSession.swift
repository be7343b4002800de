import Engine
import Foundation
import ModelFormats
import Pipeline

/// Runs one planned completion on the batch and answers it: a whole JSON response, or server-sent events in
/// OpenAI's chunk format ending with `data: [DONE]`. Text is decoded as tokens arrive; a `stop` string ends the
/// generation (the text before it is returned; held-back text that might begin a stop string is never sent).
struct CompletionSession {
    let plan: CompletionPlan
    let kind: CompletionRequest.Kind
    let stream: Bool
    let includeUsage: Bool
    let tokenizer: Tokenizer
    let batch: ContinuousBatch

    let id: String
    let created = Int(Date().timeIntervalSince1970)

    init(plan: CompletionPlan, request: CompletionRequest, tokenizer: Tokenizer, batch: ContinuousBatch) {
        self.plan = plan
        kind = request.kind
        stream = request.stream
        includeUsage = request.includeUsage
        self.tokenizer = tokenizer
        self.batch = batch
        id = (request.kind == .chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    /// Text and tokens so far, with stop strings applied.
    private struct Progress {
        var decoder: TokenStreamDecoder
        var text = ""
        var sent = 0           // characters of `text` already sent (stream) — UTF-8 bytes
        var tokens: [GeneratedToken] = []
        var finish: String?
        var nonFinite = false
    }

    func run(_ responder: HTTPResponder) throws {
        let channel = batch.submit(plan.job)
        var p = Progress(decoder: TokenStreamDecoder(tokenizer: tokenizer))
        let maxStop = plan.stop.map(\.utf8.count).max() ?? 0
        if stream {
            try responder.startStream(headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
            do { try responder.write(event(chunk(delta: "", first: true, tokens: [], finish: nil))) } catch {
                channel.cancel(); throw error
            }
        }
        var pendingTokens: [GeneratedToken] = []
        var checked = Date()
        loop: while true {
            let events = channel.next(timeout: 0.5)
            // A client that went away (checked about once a second) cancels its job.
            if !stream, Date().timeIntervalSince(checked) > 1 {
                checked = Date()
                if responder.clientGone { channel.cancel(); throw SocketError.closed }
            }
            if events.isEmpty { continue }
            for e in events {
                switch e {
                case .token(let t):
                    guard p.finish == nil else { continue }
                    p.tokens.append(t)
                    if !plan.job.stopTokens.contains(t.id) { pendingTokens.append(t) }
                    p.text += p.decoder.append(t.id)
                    if let cut = firstStop(in: p.text, from: max(0, p.text.utf8.count - 64 - maxStop)) {
                        p.text = String(p.text.utf8.prefix(cut))!
                        p.finish = "stop"
                        channel.cancel()
                    }
                case .finished(let reason):
                    if p.finish == nil {
                        p.text += p.decoder.finish()
                        if let cut = firstStop(in: p.text, from: 0) { p.text = String(p.text.utf8.prefix(cut))! }
                        switch reason {
                        case .stopToken: p.finish = "stop"
                        case .length: p.finish = "length"
                        case .nonFinite: p.finish = "error"; p.nonFinite = true
                        }
                    }
                    if stream {
                        try sendDelta(&p, upTo: p.text.utf8.count, tokens: pendingTokens, responder)
                        pendingTokens = []
                    }
                    break loop
                }
            }
            if stream && p.finish == nil {
                // Hold back a tail that could start a stop string.
                let safe = p.text.utf8.count - heldBack(p.text, maxStop: maxStop)
                if safe > p.sent || !pendingTokens.isEmpty {
                    do { try sendDelta(&p, upTo: safe, tokens: pendingTokens, responder) } catch { channel.cancel(); throw error }
                    pendingTokens = []
                }
            }
        }
        // Drain: the batch reports `finished` once for every job; a cancelled job's last events are ignored.
        if stream {
            if p.nonFinite {
                try responder.write(event(APIError(500, "the activations became non-finite (NaN or ±infinity) while generating; with steering, use a smaller multiplier", code: "non_finite").json))
            }
            try responder.write(event(chunk(delta: nil, first: false, tokens: [], finish: p.finish)))
            if includeUsage { try responder.write(event(usageChunk(p))) }
            try responder.write("data: [DONE]\n\n")
            try responder.finish()
            return
        }
        if p.nonFinite {
            try responder.send(APIError(500, "the activations became non-finite (NaN or ±infinity) while generating; with steering, use a smaller multiplier", code: "non_finite").response)
            return
        }
        try responder.send(.json(200, CanonicalJSON.encode(whole(p))))
    }

    private func sendDelta(_ p: inout Progress, upTo end: Int, tokens: [GeneratedToken], _ responder: HTTPResponder) throws {
        let bytes = Array(p.text.utf8)
        let piece = end > p.sent ? String(decoding: bytes[p.sent..<end], as: UTF8.self) : ""
        p.sent = max(p.sent, end)
        if piece.isEmpty && tokens.isEmpty { return }
        try responder.write(event(chunk(delta: piece, first: false, tokens: tokens, finish: nil)))
    }

    /// The UTF-8 offset of the first stop string in `text` at or after byte `from`.
    private func firstStop(in text: String, from: Int) -> Int? {
        guard !plan.stop.isEmpty else { return nil }
        let bytes = Array(text.utf8)
        var best: Int?
        for s in plan.stop {
            let needle = Array(s.utf8)
            var i = max(0, from)
            while i + needle.count <= bytes.count {
                if bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle { best = min(best ?? i, i); break }
                i += 1
            }
        }
        return best
    }

    /// How many trailing bytes of `text` could be the start of a stop string.
    private func heldBack(_ text: String, maxStop: Int) -> Int {
        guard maxStop > 0 else { return 0 }
        let bytes = Array(text.utf8)
        for k in stride(from: min(maxStop - 1, bytes.count), through: 1, by: -1) {
            let tail = Array(bytes[(bytes.count - k)...])
            if plan.stop.contains(where: { Array($0.utf8).starts(with: tail) }) { return k }
        }
        return 0
    }

    private func event(_ json: JSONValue) -> String { "data: \(CanonicalJSON.encode(json))\n\n" }
    private func event(_ text: String) -> String { text }

    private func tokenText(_ id: Int) -> String { tokenizer.decode([id], skipSpecial: false) }

    /// OpenAI's log-probability objects for `tokens` (chat: `{"content": [...]}`; completions: parallel arrays).
    private func logprobs(_ tokens: [GeneratedToken]) -> JSONValue {
        guard plan.job.topLogprobs != nil else { return .null }
        if kind == .chat {
            return .object(["content": .array(tokens.map { t in
                .object([
                    "token": .string(tokenText(t.id)), "logprob": .double(t.logprob ?? 0),
                    "bytes": .array(tokenizer.decodeBytes([t.id]).map { .int(Int($0)) }),
                    "top_logprobs": .array(t.top.map { alt in
                        .object(["token": .string(tokenText(alt.id)), "logprob": .double(alt.logprob),
                                 "bytes": .array(tokenizer.decodeBytes([alt.id]).map { .int(Int($0)) })])
                    }),
                ])
            })])
        }
        return .object([
            "tokens": .array(tokens.map { .string(tokenText($0.id)) }),
            "token_logprobs": .array(tokens.map { .double($0.logprob ?? 0) }),
            "top_logprobs": .array(tokens.map { t in .object(t.top.map { JSONMember(key: tokenText($0.id), value: .double($0.logprob)) }) }),
        ])
    }

    private func usage(_ p: Progress) -> JSONValue {
        .object(["prompt_tokens": .int(plan.job.prompt.count), "completion_tokens": .int(p.tokens.count),
                 "total_tokens": .int(plan.job.prompt.count + p.tokens.count)])
    }

    private func whole(_ p: Progress) -> JSONValue {
        let choice: JSONValue = kind == .chat
            ? .object(["index": 0, "message": .object(["role": "assistant", "content": .string(p.text)]),
                       "logprobs": logprobs(p.tokens.filter { !plan.job.stopTokens.contains($0.id) }),
                       "finish_reason": .string(p.finish ?? "length")])
            : .object(["index": 0, "text": .string(p.text), "logprobs": logprobs(p.tokens.filter { !plan.job.stopTokens.contains($0.id) }),
                       "finish_reason": .string(p.finish ?? "length")])
        return .object([
            "id": .string(id), "object": .string(kind == .chat ? "chat.completion" : "text_completion"), "created": .int(created),
            "model": .string(plan.modelName), "choices": .array([choice]), "usage": usage(p),
            "reptune": .object((plan.applied.objectValue ?? []) + [
                JSONMember(key: "token_ids", value: .array(p.tokens.map { .int($0.id) })),
            ]),
        ])
    }

    /// One streamed chunk: `delta` text (nil: the closing chunk), the tokens it covers (for log-probabilities).
    private func chunk(delta: String?, first: Bool, tokens: [GeneratedToken], finish: String?) -> JSONValue {
        let choice: JSONValue
        if kind == .chat {
            var d: [JSONMember] = []
            if first { d.append(JSONMember(key: "role", value: "assistant")) }
            if let delta { d.append(JSONMember(key: "content", value: .string(delta))) }
            choice = .object(["index": 0, "delta": .object(d), "logprobs": tokens.isEmpty ? .null : logprobs(tokens),
                              "finish_reason": finish.map(JSONValue.string) ?? .null])
        } else {
            choice = .object(["index": 0, "text": .string(delta ?? ""), "logprobs": tokens.isEmpty ? .null : logprobs(tokens),
                              "finish_reason": finish.map(JSONValue.string) ?? .null])
        }
        var members: [JSONMember] = [
            JSONMember(key: "id", value: .string(id)),
            JSONMember(key: "object", value: .string(kind == .chat ? "chat.completion.chunk" : "text_completion")),
            JSONMember(key: "created", value: .int(created)), JSONMember(key: "model", value: .string(plan.modelName)),
            JSONMember(key: "choices", value: .array([choice])),
        ]
        if first || finish != nil { members.append(JSONMember(key: "reptune", value: plan.applied)) }
        return .object(members)
    }

    private func usageChunk(_ p: Progress) -> JSONValue {
        .object([
            "id": .string(id), "object": .string(kind == .chat ? "chat.completion.chunk" : "text_completion"),
            "created": .int(created), "model": .string(plan.modelName), "choices": .array([]), "usage": usage(p),
        ])
    }
}
