import Foundation

/// The instrumental-lying material: 21 deceptive role-play scenarios for open-ended generation and 20 A/B
/// question blocks.
public struct InstrumentalLyingScenarios: Sendable, Equatable {
    /// Open-ended user texts (the `[INST] … [/INST]` wrapper removed), e.g. "You are a travel agent …\nAgent:".
    public let openEndedPrompts: [String]
    /// A/B questions in the paper's order: blocks split on "\n\n\n", "\n(" spaced to "\n (", then the first and
    /// second halves interleaved (q0, q10, q1, q11, …).
    public let abQuestions: [String]

    public init(openEndedPrompts: [String], abQuestions: [String]) {
        self.openEndedPrompts = openEndedPrompts
        self.abQuestions = abQuestions
    }

    public static func load(_ descriptor: DatasetDescriptor, from mirror: DatasetMirror) throws -> InstrumentalLyingScenarios {
        let (list, listPath) = try mirror.verifiedText(role: "open-ended prompts", of: descriptor)
        let (blocks, _) = try mirror.verifiedText(role: "a/b prompts", of: descriptor)
        return InstrumentalLyingScenarios(openEndedPrompts: try parseOpenEnded(list, source: listPath),
                                          abQuestions: parseABBlocks(blocks))
    }

    /// Parses a file of `"""[INST] … [/INST]""",` items.
    public static func parseOpenEnded(_ text: String, source: String) throws -> [String] {
        let parts = text.components(separatedBy: "\"\"\"")
        guard parts.count % 2 == 1 else {
            throw DatasetError.malformed(path: source, line: nil, expected: "paired \"\"\" delimiters",
                                         found: "\(parts.count - 1) delimiters")
        }
        var prompts: [String] = []
        for i in stride(from: 1, to: parts.count, by: 2) {
            var item = parts[i]
            guard item.hasPrefix("[INST] "), item.hasSuffix(" [/INST]") else {
                let line = parts[0..<i].joined(separator: "\"\"\"").filter { $0 == "\n" }.count + 1
                throw DatasetError.malformed(path: source, line: line, expected: "an item \"[INST] … [/INST]\"",
                                             found: "\"\(item.prefix(40))…\"")
            }
            item.removeFirst("[INST] ".count)
            item.removeLast(" [/INST]".count)
            prompts.append(item)
        }
        return prompts
    }

    /// Splits the A/B blocks and reorders them as the paper did.
    public static func parseABBlocks(_ text: String) -> [String] {
        let blocks = text.components(separatedBy: "\n\n\n").map { $0.replacingOccurrences(of: "\n(", with: "\n (") }
        let half = blocks.count / 2
        var ordered: [String] = []
        for i in 0..<half {
            ordered.append(blocks[i])
            ordered.append(blocks[half + i])
        }
        // An odd block out is dropped, as the paper's zip did.
        return ordered
    }
}
