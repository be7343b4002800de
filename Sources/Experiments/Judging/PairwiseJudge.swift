/// A judge back-end: answers judge messages (the user text `JudgePrompt` builds) with verdicts. `LocalJudge`
/// runs a model on reptune's engine; `OpenAICompatibleJudge` asks a chat-completions endpoint.
public protocol PairwiseJudge {
    /// Names the judge in stored outputs: `local:<model>` or `openai:<model>`.
    var label: String { get }
    /// One verdict per message, in order.
    func verdicts(for messages: [String]) throws -> [JudgeVerdict]
}

extension PairwiseJudge {
    /// Judges every item in both orders (A first, then B first), `batchItems` items per call of `verdicts`,
    /// reporting the items done after each batch.
    public func judge(_ items: [JudgeItem], prompt: JudgePrompt = JudgePrompt(), batchItems: Int = 4,
                      progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> [ItemJudgement] {
        var out: [ItemJudgement] = []
        out.reserveCapacity(items.count)
        var start = 0
        while start < items.count {
            let batch = items[start..<min(start + max(1, batchItems), items.count)]
            let messages = batch.flatMap { [prompt.text(for: $0, order: .ab), prompt.text(for: $0, order: .ba)] }
            let verdicts = try self.verdicts(for: messages)
            guard verdicts.count == messages.count else {
                throw JudgeError("judge \(label) returned \(verdicts.count) verdicts for \(messages.count) messages")
            }
            for (k, item) in batch.enumerated() {
                out.append(ItemJudgement(item: item.item, ab: verdicts[2 * k], ba: verdicts[2 * k + 1]))
            }
            start += batch.count
            progress(start, items.count)
        }
        return out
    }
}

/// A judging failure, saying which judge, endpoint or item and what was expected.
public struct JudgeError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
