import Engine
import ModelFormats

/// A judge model run by reptune's engine. Each judge message goes through the chat template as the user turn,
/// with the assistant turn opened; one forward pass gives the next-token distribution there, and the verdict is
/// whichever of the answers "1" and "2" is more probable. Messages are batched (one ragged forward per batch).
public struct LocalJudge: PairwiseJudge {
    /// The probabilities behind one verdict.
    public struct AnswerScores: Sendable, Hashable {
        /// Natural-log probability of answering "1" as the first token of the reply.
        public var logProbabilityOfFirst: Double
        /// Natural-log probability of answering "2".
        public var logProbabilityOfSecond: Double
        public var verdict: JudgeVerdict { JudgeVerdict(logProbabilityOfFirst: logProbabilityOfFirst, second: logProbabilityOfSecond) }
    }

    public var model: LanguageModel
    public var template: ChatTemplate
    /// Messages per forward pass.
    public var batchSize: Int
    public var label: String

    /// The ids of the answer tokens "1" and "2" right after the opened assistant turn.
    public let answerTokens: (first: Int, second: Int)

    /// Throws when the tokenizer does not spell "1" and "2" as single tokens after the template's assistant
    /// opening (the comparison needs one token each).
    public init(model: LanguageModel, template: ChatTemplate, name: String, batchSize: Int = 8) throws {
        self.model = model
        self.template = template
        self.batchSize = max(1, batchSize)
        self.label = "local:\(name)"
        let (_, suffix) = Self.split(template)
        let tokenizer = model.tokenizer
        func answer(_ digit: String) throws -> Int {
            let base = tokenizer.encode(suffix, addBOS: false, parseSpecial: true)
            let full = tokenizer.encode(suffix + digit, addBOS: false, parseSpecial: true)
            guard full.count == base.count + 1, Array(full.prefix(base.count)) == base else {
                throw JudgeError("judge model \(name): the answer \"\(digit)\" after the assistant opening is not one token "
                                 + "(tokens \(full.map { tokenizer.piece($0) }) after \(base.map { tokenizer.piece($0) }))")
            }
            return full[full.count - 1]
        }
        answerTokens = (try answer("1"), try answer("2"))
    }

    /// The template rendered around a placeholder user turn: the text before and after the message.
    private static func split(_ template: ChatTemplate) -> (prefix: String, suffix: String) {
        let marker = "\u{1}JUDGE-MESSAGE\u{1}"
        let rendered = template.render([ChatMessage.user(marker)], addGenerationPrompt: true)
        let parts = rendered.components(separatedBy: marker)
        return (parts[0], parts.count > 1 ? parts[1...].joined(separator: marker) : "")
    }

    /// The token ids the judge runs for `message`: the template's markup with special tokens parsed, the
    /// message itself as plain text (chat markers inside the judged texts stay text), BOS as the template needs.
    public func tokens(for message: String) -> [Int] {
        let (prefix, suffix) = Self.split(template)
        let tokenizer = model.tokenizer
        return tokenizer.encode(prefix, addBOS: template.prependsBOS ? true : nil, parseSpecial: true)
            + tokenizer.encode(message, addBOS: false, parseSpecial: false)
            + tokenizer.encode(suffix, addBOS: false, parseSpecial: true)
    }

    /// The log-probabilities of "1" and "2" at the answer position for each message.
    public func answerScores(for messages: [String]) throws -> [AnswerScores] {
        var out: [AnswerScores] = []
        out.reserveCapacity(messages.count)
        let network = model.network
        let vocab = network.config.vocabularySize
        var start = 0
        while start < messages.count {
            let batch = messages[start..<min(start + batchSize, messages.count)]
            var items = try batch.map { message in
                let ids = tokens(for: message)
                try model.validate(prompt: ids)
                return ForwardItem(tokens: ids, cache: network.makeCache(), logits: .last)
            }
            let outputs = network.forward(&items)
            for output in outputs {
                let row = Array(output.logitsRow(0))
                let lse = row.withUnsafeBufferPointer { ActivationKernels.logSumExp($0.baseAddress!, count: vocab) }
                out.append(AnswerScores(logProbabilityOfFirst: Double(row[answerTokens.first]) - lse,
                                        logProbabilityOfSecond: Double(row[answerTokens.second]) - lse))
            }
            start += batch.count
        }
        return out
    }

    public func verdicts(for messages: [String]) throws -> [JudgeVerdict] {
        try answerScores(for: messages).map(\.verdict)
    }
}
