import Engine
import Foundation
import ModelFormats

/// CAA's A/B evaluation (`prompting_with_steering.py`): each prompt `… [/INST] (` scored by P(A) and P(B) at its
/// last position, unsteered or with `multiplier · vector` added to the output of one block at the last token of
/// `[/INST]` and every later position (the question's tokens untouched).
///
/// The prompt up to the steering start runs once, unsteered (steering cannot reach it); each variant continues
/// from that KV cache with the remaining few tokens, all variants of a prompt in one batch. This equals running
/// each variant's whole prompt with `PositionSelector.from(start)`.
public struct CAAABScorer: Sendable {
    /// One condition: unsteered, or a vector added at a block with a multiplier.
    public struct Steering: Sendable, Equatable {
        public var layer: Int
        public var vector: [Float]
        public var multiplier: Float

        public init(layer: Int, vector: [Float], multiplier: Float) {
            self.layer = layer
            self.vector = vector
            self.multiplier = multiplier
        }
    }

    /// One prompt: its tokens, the steering start and the matching letter ("A" or "B").
    public struct Prompt: Sendable, Equatable {
        public var tokens: [Int]
        public var start: Int
        public var matching: String

        public init(tokens: [Int], start: Int, matching: String) {
            self.tokens = tokens
            self.start = start
            self.matching = matching
        }
    }

    /// Why the letters cannot be scored.
    public struct LetterError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let model: LlamaModel
    public let aToken: Int
    public let bToken: Int
    /// Sequences per forward pass of the continuations.
    public var rowsPerPass = 48

    /// The scorer with the token ids of "A" and "B" (CAA's `convert_tokens_to_ids("A")`): each letter must be one
    /// token of the vocabulary.
    public init(model: LlamaModel, tokenizer: Tokenizer) throws {
        self.model = model
        func letter(_ s: String) throws -> Int {
            let ids = tokenizer.encode(s, addBOS: false, addEOS: false, parseSpecial: false)
            guard ids.count == 1 else {
                throw LetterError(description: "the tokenizer writes \"\(s)\" as \(ids.count) tokens \(ids); CAA's A/B score needs one token per letter")
            }
            return ids[0]
        }
        aToken = try letter("A")
        bToken = try letter("B")
    }

    /// P(A), P(B) of every prompt under every variant: `[prompt][variant]`, nil where the logits were not finite.
    public func score(_ prompts: [Prompt], variants: [Steering?]) -> [[MatchingProbability?]] {
        var prefixes = prompts.map { p in
            ForwardItem(tokens: Array(p.tokens[..<p.start]), cache: model.makeCache(reserve: p.tokens.count), logits: .none)
        }
        _ = model.forward(&prefixes)
        var rows: [(prompt: Int, variant: Int, item: ForwardItem)] = []
        for (i, p) in prompts.enumerated() {
            for (v, steering) in variants.enumerated() {
                let interventions = steering.map {
                    [Intervention.steer(layer: $0.layer, vector: $0.vector, multiplier: $0.multiplier, positions: .from(p.start))]
                } ?? []
                rows.append((i, v, ForwardItem(tokens: Array(p.tokens[p.start...]), cache: prefixes[i].cache,
                                               interventions: interventions, logits: .last)))
            }
        }
        var out = [[MatchingProbability?]](repeating: [MatchingProbability?](repeating: nil, count: variants.count), count: prompts.count)
        for start in stride(from: 0, to: rows.count, by: rowsPerPass) {
            let chunk = rows[start..<min(start + rowsPerPass, rows.count)]
            var items = chunk.map(\.item)
            let outputs = model.forward(&items)
            for (row, output) in zip(chunk, outputs) {
                let logits = output.lastLogits
                let overflow = row.item.interventions.contains(where: \.overflowsFP32)
                guard !overflow, logits.allSatisfy(\.isFinite) else { continue }
                out[row.prompt][row.variant] = MatchingProbability(logits: logits, aToken: aToken, bToken: bToken,
                                                                   matching: prompts[row.prompt].matching)
            }
        }
        return out
    }
}
