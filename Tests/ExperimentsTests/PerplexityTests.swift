import Engine
import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// Sliding-window perplexity: the window arithmetic, and parity with the reference on a wikitext-2 slice.
struct PerplexityTests {
    @Test func everyTokenButTheFirstIsScoredOnce() {
        for (n, w, s) in [(2876, 256, 128), (100, 1024, 512), (1025, 1024, 512), (10, 4, 2), (7, 3, 1)] {
            let p = SlidingWindowPerplexity(window: w, stride: s, streams: 1)
            var scored = [Int]()
            for win in p.windows(count: n) {
                #expect(win.end - win.start <= w && win.scoredFrom > win.start)
                scored += Array(win.scoredFrom..<win.end)
            }
            #expect(scored == Array(1..<n), "n=\(n) window=\(w) stride=\(s)")
        }
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
    func matchesTheReferenceOnTheFirst12000Characters() throws {
        let json = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: Fixtures.reference.appendingPathComponent("perplexity.json"))) as? [String: Any])
        let raw = try String(contentsOf: Fixtures.datasets.appendingPathComponent("wikitext-2-raw/wiki.test.raw"), encoding: .utf8)
        // Python counts code points, and "\r\n" is one Character in Swift: slice the scalars.
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: raw.unicodeScalars.prefix((json["chars"] as! NSNumber).intValue))
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let tokens = model.tokenizer.encode(String(scalars), addBOS: false, parseSpecial: false)
        #expect(tokens.count == (json["n_tokens"] as! NSNumber).intValue)
        let p = SlidingWindowPerplexity(window: (json["window"] as! NSNumber).intValue,
                                        stride: (json["stride"] as! NSNumber).intValue, streams: 1, batch: 4)
        let result = try p.evaluate(tokens, model: model.network)
        #expect(result.tokensScored == (json["tokens_scored"] as! NSNumber).intValue)
        let expected = (json["perplexity"] as! NSNumber).doubleValue
        #expect(abs(result.perplexity / expected - 1) < 1e-3, "perplexity \(result.perplexity) vs \(expected)")
    }
}
