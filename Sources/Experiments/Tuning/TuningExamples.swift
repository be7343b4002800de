import Engine
import ModelFormats

/// One statement turned into a training sequence.
public struct TuningExample: Sendable, Equatable {
    public var statement: TrueFalseStatement
    /// The prompt's tokens (the facts evaluation prompt up to where the completion letter goes) and the targets.
    public var sequence: TrainingSequence
    /// The letter the token loss targets (`A`/`B`; for the soft target, the honest letter).
    public var label: AnswerChoice
    /// Index of the last prompt token in `sequence.tokens`: the position whose logits predict the letter, and
    /// the origin of `probe_position`.
    public var lastPromptIndex: Int { sequence.tokens.count - 1 }
}

/// Builds METHOD.md §5 training sequences from true/false statements.
///
/// The prompt is `FactsPrompts.training` (the facts evaluation prompt) rendered through `template` with the
/// completion letter as the start of the assistant's turn, tokenized as the model sees it (BOS as the template
/// asks, special tokens parsed). The letter is the last token of that text: the sequence is every token before
/// it, and the token target predicts it from the last of them (the paper's CE "of the completion letter only").
/// Rendering with the letter and dropping it — rather than tokenizing the prompt alone — keeps the split the
/// tokenizer makes when the letter joins the text before it (`[/INST] A` → `▁A` in Llama-2). The two letters must
/// leave the same prefix.
///
/// Labels: A for a true statement and B for a false one (`truth`, `honesty`, `tune_out`), swapped for `lie` and
/// `dishonesty`; `soft_target` puts 0.5 on each letter. Cosine targets (`honesty`, `dishonesty`, `tune_out`): one per
/// loss layer L at `lastPromptIndex + probePosition`, towards +v_L, −v_L or orthogonal to v_L; their weights are
/// set when batches are composed (`TuningBatches`), so the loss is the mean over layers and sequences.
public struct TuningExampleBuilder: Sendable {
    public var tokenizer: Tokenizer
    public var template: ChatTemplate
    public var objective: TuningObjective
    /// Blocks whose output enters the cosine loss.
    public var lossLayers: [Int]
    /// Token read for the cosine loss, counted back from the last prompt token (≤ 0; the paper: −7).
    public var probePosition: Int
    /// Unit direction per block (needed at every loss layer when the objective has a cosine term).
    public var vectors: [Int: [Float]]

    public init(tokenizer: Tokenizer, template: ChatTemplate, objective: TuningObjective, lossLayers: [Int] = [],
                probePosition: Int = -7, vectors: [Int: [Float]] = [:]) throws {
        self.tokenizer = tokenizer
        self.template = template
        self.objective = objective
        self.lossLayers = lossLayers
        self.probePosition = probePosition
        self.vectors = vectors
        guard probePosition <= 0 else {
            throw TuningDataError(field: "probe_position", "expected an offset ≤ 0 from the last prompt token, found \(probePosition)")
        }
        if objective.usesVector {
            guard !lossLayers.isEmpty else {
                throw TuningDataError(field: "loss_layers", "objective \(objective.rawValue) needs at least one loss layer")
            }
            let missing = lossLayers.filter { vectors[$0] == nil }
            guard missing.isEmpty else {
                throw TuningDataError(field: "vector", "objective \(objective.rawValue) needs a direction for every loss layer; "
                                      + "missing layers \(missing) (the vector input has \(vectors.keys.sorted()))")
            }
        }
    }

    /// Tokens of the training prompt with `letter` as the assistant's first text.
    public func tokens(_ statement: TrueFalseStatement, letter: AnswerChoice) -> [Int] {
        var spec = FactsPrompts.training(statement.text)
        spec.assistantPrefix = letter == .a ? "A" : "B"
        return tokenizer.encode(spec.render(template), addBOS: template.prependsBOS ? true : nil, parseSpecial: true)
    }

    /// The training sequence of one statement.
    public func example(_ statement: TrueFalseStatement) throws -> TuningExample {
        let withA = tokens(statement, letter: .a), withB = tokens(statement, letter: .b)
        let prompt = Array(withA.dropLast())
        guard prompt.count >= 1, Array(withB.dropLast()) == prompt, let tokenA = withA.last, let tokenB = withB.last, tokenA != tokenB else {
            throw TuningDataError(field: "statement row \(statement.row)",
                                  "expected the letters A and B to be one final token each after the same prompt tokens; "
                                  + "found \(withA.suffix(3)) and \(withB.suffix(3)) at the end")
        }
        let honest = statement.honestChoice
        let label = objective.swapsLabels ? honest.opposite : honest
        let last = prompt.count - 1
        let tokenTarget: TokenTarget
        if objective == .softTarget {
            tokenTarget = TokenTarget(position: last, distribution: [.init(token: tokenA, probability: 0.5),
                                                                     .init(token: tokenB, probability: 0.5)])
        } else {
            tokenTarget = .next(label == .a ? tokenA : tokenB, at: last)
        }
        var cosineTargets: [CosineTarget] = []
        if let (mode, sign) = objective.cosine {
            let position = last + probePosition
            guard position >= 0 else {
                throw TuningDataError(field: "probe_position",
                                      "offset \(probePosition) lies before the first token of the \(prompt.count)-token prompt of statement row \(statement.row)")
            }
            cosineTargets = lossLayers.map { l in
                CosineTarget(layer: l, position: position, vector: vectors[l]!.map { sign * $0 }, mode: mode, weight: 1)
            }
        }
        return TuningExample(statement: statement,
                             sequence: TrainingSequence(tokens: prompt, tokenTargets: [tokenTarget], cosineTargets: cosineTargets),
                             label: label)
    }

    /// One example per statement of each (true, false) pair, keeping the pairing.
    public func pairs(_ pairs: [(true: TrueFalseStatement, false: TrueFalseStatement)]) throws -> [TuningPair] {
        try pairs.map { TuningPair(true: try example($0.true), false: try example($0.false)) }
    }
}

/// A true and a false statement's examples; batches are made of whole pairs so that each is balanced.
public struct TuningPair: Sendable, Equatable {
    public var `true`: TuningExample
    public var `false`: TuningExample

    public init(true t: TuningExample, false f: TuningExample) {
        self.true = t
        self.false = f
    }
}
