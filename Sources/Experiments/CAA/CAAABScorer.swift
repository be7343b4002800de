import Engine
import Foundation
import ModelFormats

/// CAA's A/B evaluation (`prompting_with_steering.py`): each prompt `… [/INST] (` scored by P(A) and P(B) at its
/// last position, unsteered or with `multiplier · vector` added to the output of one block at the last token of
/// `[/INST]` and every later position (the question's tokens untouched) — or several such vectors at once, each at
/// its own block, multiplier and positions (`SteeringTerm`).
///
/// The prompt up to the steering start runs once, unsteered (steering cannot reach it); each variant continues
/// from that KV cache with the remaining few tokens, all variants of a prompt in one batch. This equals running
/// each variant's whole prompt with `PositionSelector.from(start)`.
public struct CAAABScorer: Sendable {
    /// One condition: vectors added at blocks with multipliers, each from its own positions (`SteeringTerm`).
    public struct Steering: Sendable, Equatable {
        public var terms: [SteeringTerm]

        public init(terms: [SteeringTerm]) {
            self.terms = terms
        }

        /// CAA's condition: one vector at one block from the steering start on.
        public init(layer: Int, vector: [Float], multiplier: Float) {
            terms = [SteeringTerm(layer: layer, vector: vector, multiplier: multiplier)]
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
        score(prompts, variants: variants, capturing: nil).probabilities
    }

    /// What `score` returns with a capture: `[prompt][variant]` probabilities, and each prompt's residual at the
    /// captured block over its unsteered prefix (the tokens before the steering start), `[tokens × width]`.
    public struct Scores: Sendable {
        public var probabilities: [[MatchingProbability?]]
        public var captures: [[Float]]
    }

    /// `score`, recording the output of block `capturing` over each prompt's unsteered prefix (CAST's condition
    /// reads it; steering never reaches those positions).
    public func score(_ prompts: [Prompt], variants: [Steering?], capturing: Int?) -> Scores {
        var prefixes = prompts.map { p in
            ForwardItem(tokens: Array(p.tokens[..<p.start]), cache: model.makeCache(reserve: p.tokens.count),
                        interventions: capturing.map { [.capture(.block($0))] } ?? [], logits: .none)
        }
        let prefixOutputs = model.forward(&prefixes)
        var rows: [(prompt: Int, variant: Int, item: ForwardItem)] = []
        for (i, p) in prompts.enumerated() {
            for (v, steering) in variants.enumerated() {
                let interventions = steering?.terms.map { $0.intervention(start: p.start, length: p.tokens.count) } ?? []
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
        let captures = capturing.map { layer in prefixOutputs.map { $0.capture(at: .block(layer))?.values ?? [] } } ?? []
        return Scores(probabilities: out, captures: captures)
    }
}
