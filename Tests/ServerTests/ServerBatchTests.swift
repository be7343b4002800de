import Engine
import Foundation
import ModelFormats
import Pipeline
import Server
import Testing
import TestSupport

extension ServerSuites {
    /// Continuous batching through the HTTP API: a batch mixing vectors, multipliers, positions, a tuned variant and
    /// unsteered requests gives every request exactly its solo greedy tokens; steering through the server equals
    /// `reptune generate --steer`; log-probabilities match the engine's own scoring; stop strings.
    @Suite struct ServerBatchTests {
        /// Six requests, each run alone and then all at once (twice): the same tokens every time.
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func mixedBatchGivesSoloTokens() throws {
            let f = try #require(ServerFixture.shared)
            let inline = "[" + f.directions[10]!.map { "\($0)" }.joined(separator: ",") + "]"
            let cases: [(user: String, steering: String, model: String?)] = [
                ("Name a colour.", "[]", nil),
                ("Name a colour.", #"[{"vector": "steer.gguf", "layer": 10, "multiplier": 8}]"#, nil),
                ("Tell me about the sea.", #"[{"vector": \#(inline), "layer": 10, "multiplier": -6, "positions": "generated"}]"#, nil),
                ("Tell me about the sea.", #"[{"vector": "steer.gguf", "layer": 3, "multiplier": 4, "positions": "prompt"}, {"vector": "steer.gguf", "layer": 20, "multiplier": 6}]"#, nil),
                ("What is two plus two?", "[]", "honesty_tune"),
                ("What is two plus two?", #"[{"vector": "steer.gguf", "layer": 5, "multiplier": 5}]"#, "honesty_tune"),
            ]
            let maxTokens = 14
            var solo: [[Int]] = []
            for c in cases { solo.append(try f.chat(c.user, maxTokens: maxTokens, steering: c.steering, model: c.model).ids) }
            #expect(solo.allSatisfy { !$0.isEmpty })
            // Steering and the variant change the output (they are applied at all).
            #expect(solo[1] != solo[0])
            #expect(solo[4] != f.chatIDs("What is two plus two?", maxTokens))
            for round in 0..<2 {
                let stepsBefore = f.server.batch.steps
                let results = Locked<[Int: [Int]]>([:])
                concurrently(cases.count) { i in
                    let c = cases[i]
                    let ids = (try? f.chat(c.user, maxTokens: maxTokens, steering: c.steering, model: c.model).ids) ?? []
                    results.with { $0[i] = ids }
                }
                let steps = f.server.batch.steps - stepsBefore
                for i in cases.indices {
                    #expect(results.value[i] == solo[i], "round \(round), request \(i) (\(cases[i].steering.prefix(60))): batched tokens differ from solo")
                }
                // The requests shared decode steps (fewer steps than tokens).
                let tokens = solo.reduce(0) { $0 + $1.count }
                #expect(steps < tokens - cases.count, "round \(round): \(steps) decode steps for \(tokens) tokens: not batched")
            }
        }

        /// The server's steered chat equals `reptune generate --chat FILE --steer FILE --layer L --mult M`, token for token.
        @Test(.enabled(if: Fixtures.hasModel && CLI.executable != nil, "needs the model and the reptune executable"))
        func steeringEqualsGenerateSteer() throws {
            let f = try #require(ServerFixture.shared)
            let chat = f.results.appendingPathComponent("chat.json")
            try Data(#"[{"role": "user", "content": "Describe a quiet morning."}]"#.utf8).write(to: chat)
            for (layer, mult, positions) in [(10, 8.0, "all"), (5, -6.0, "generated")] {
                let r = try CLI.run(["generate", Fixtures.defaultModel.path, "--chat", chat.path, "--steer", f.vectorFile.path,
                                     "--layer", "\(layer)", "--mult", "\(mult)", "--positions", positions, "--max-tokens", "24", "--json"])
                #expect(r.status == 0, "\(r.stderr)")
                let expected = try JSONParser.parse(r.stdout)["ids"]?.arrayValue?.compactMap(\.intValue) ?? []
                let served = try f.chat("Describe a quiet morning.", maxTokens: 24,
                                        steering: #"[{"vector": "steer.gguf", "layer": \#(layer), "multiplier": \#(mult), "positions": "\#(positions)"}]"#)
                #expect(!expected.isEmpty && served.ids == expected, "layer \(layer) ×\(mult): served \(served.ids), generate \(expected)")
                #expect(served.text == f.language.tokenizer.decode(expected, skipSpecial: true))
            }
        }

        /// Completions' log-probabilities equal the engine's scoring of the same tokens (`logProbabilities`), the
        /// greedy token is the top alternative.
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func logprobsMatchTheEngine() throws {
            let f = try #require(ServerFixture.shared)
            let r = try f.post("/v1/completions", """
                {"model": "\(f.baseName)", "prompt": "The capital of France is", "max_tokens": 6, "temperature": 0, "logprobs": 5}
                """)
            let json = try #require(r.json, "\(r.status) \(r.body)")
            let ids = json["reptune"]?["token_ids"]?.arrayValue?.compactMap(\.intValue) ?? []
            let lp = try #require(json["choices"]?.arrayValue?.first?["logprobs"])
            let values = lp["token_logprobs"]?.arrayValue?.compactMap(\.doubleValue) ?? []
            let tops = lp["top_logprobs"]?.arrayValue ?? []
            #expect(ids.count == 6 && values.count == 6 && tops.count == 6)
            let prompt = f.language.tokenizer.encode("The capital of France is", addBOS: f.language.tokenizer.vocabulary.addBOS, parseSpecial: true)
            let reference = f.language.network.logProbabilities([(prompt + ids, prompt.count..<(prompt.count + ids.count))])[0]
            for k in values.indices {
                #expect(abs(values[k] - reference[k]) < 2e-3, "token \(k): served \(values[k]), engine \(reference[k])")
                let alternatives = tops[k].objectValue?.compactMap(\.value.doubleValue) ?? []
                // An object keyed by token text (OpenAI's legacy shape): its order means nothing.
                #expect(alternatives.count == 5 && alternatives.allSatisfy { $0 <= 0 })
                #expect(abs((alternatives.max() ?? 0) - values[k]) < 1e-9, "greedy token \(k) is the most likely")
            }
        }

        /// A stop string ends the text before it (whole and streamed), with finish_reason "stop".
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func stopStrings() throws {
            let f = try #require(ServerFixture.shared)
            let full = try f.chat("Write a sentence about cats.", maxTokens: 30)
            let words = full.text.split(separator: " ")
            try #require(words.count > 4, "the model wrote \(full.text)")
            let stop = String(words[3])
            let expected = String(full.text[..<full.text.range(of: stop)!.lowerBound])
            for stream in [false, true] {
                let r = try f.post("/v1/chat/completions", """
                    {"model": "\(f.baseName)", "messages": [{"role": "user", "content": "Write a sentence about cats."}],
                     "max_tokens": 30, "temperature": 0, "stop": [\(JSONStringLiteral.quoted(stop))], "stream": \(stream)}
                    """)
                #expect(r.status == 200)
                if stream {
                    let chunks = r.events.dropLast().compactMap { try? JSONParser.parse($0) }
                    let text = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
                    #expect(text == expected)
                    #expect(chunks.last?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
                    #expect(r.events.last == "[DONE]")
                } else {
                    #expect(r.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == expected)
                    #expect(r.json?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
                }
            }
        }
    }
}

extension ServerSuites {
    /// What a results directory offers, as the endpoints list it and as requests name it.
    @Suite struct ServerStoreTests {
        @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel)) func storedVectorsAndVariantsAreServed() throws {
            let f = try #require(ServerFixture.shared)
            let vectors = try #require(try f.client.request("GET", "/v1/steering/vectors")?.json)
            let entry = try #require(vectors["data"]?.arrayValue?.first)
            #expect(vectors["data"]?.arrayValue?.count == 1 && entry["id"]?.stringValue == "honesty_vec")
            let layers = entry["layers"]?.arrayValue ?? []
            #expect(layers.compactMap { $0["layer"]?.intValue } == ServerFixture.steeredLayers)
            #expect(layers.compactMap { $0["norm"]?.doubleValue } == ServerFixture.steeredLayers.map { Double($0) / 2 })
            #expect(layers.compactMap { $0["auroc"]?.doubleValue } == ServerFixture.steeredLayers.map { 0.5 + Double($0) / 50 })
            let models = try #require(try f.client.request("GET", "/v1/models")?.json)
            #expect(models["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [f.baseName, "honesty_tune"])
            // The stage id and the file name are the same directions.
            let byStage = try f.chat("Name a colour.", maxTokens: 10, steering: #"[{"vector": "honesty_vec", "layer": 10, "multiplier": 16}]"#)
            let byFile = try f.chat("Name a colour.", maxTokens: 10, steering: #"[{"vector": "steer.gguf", "layer": 10, "multiplier": 16}]"#)
            #expect(byStage.ids == byFile.ids && !byStage.ids.isEmpty)
            let r = try f.post("/v1/chat/completions", #"{"model": "honesty_tune", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "steering": [{"vector": "honesty_vec", "layer": 5}]}"#)
            #expect(r.status == 200)
            #expect(r.json?["model"]?.stringValue == "honesty_tune")
            #expect(r.json?["reptune"]?["variant"]?.stringValue == "tuned")
            #expect(r.json?["reptune"]?["steering"]?.arrayValue?.first?["vector"]?.stringValue == "honesty_vec")
        }
    }
}

extension ServerFixture {
    func chatIDs(_ user: String, _ maxTokens: Int) -> [Int] { (try? chat(user, maxTokens: maxTokens).ids) ?? [] }
}
