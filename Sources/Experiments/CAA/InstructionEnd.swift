/// CAA's steering start: the index of the last token of the last occurrence of the instruction-end marker's tokens
/// (`[/INST]`, or a chat template's assistant header) in a prompt. Steering is added there and at every later
/// position, so the question's own tokens stay untouched. The marker is tokenized on its own (without BOS); a
/// marker that spans several tokens must appear as exactly that run of tokens.
public enum InstructionEnd {
    /// Why a prompt has no steering start.
    public struct NotFound: Error, CustomStringConvertible, Sendable, Equatable {
        public let marker: [Int]
        public let promptLength: Int
        public var description: String {
            "the instruction-end marker (tokens \(marker)) does not occur in the \(promptLength)-token prompt; "
                + "CAA would then steer every position — check the prompt format and the marker's tokenization"
        }
    }

    /// The position of the marker's last token in `tokens` (its last occurrence).
    public static func position(in tokens: [Int], marker: [Int]) throws -> Int {
        guard !marker.isEmpty, marker.count <= tokens.count else { throw NotFound(marker: marker, promptLength: tokens.count) }
        var start = tokens.count - marker.count
        while start >= 0 {
            if tokens[start..<start + marker.count].elementsEqual(marker) { return start + marker.count - 1 }
            start -= 1
        }
        throw NotFound(marker: marker, promptLength: tokens.count)
    }
}
