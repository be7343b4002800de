import Foundation

/// One multiple-choice item of a CAA set: a question ending in lettered choices, the choice that matches the
/// behaviour (for the side-effect sets, MMLU and TruthfulQA: the correct one) and the one that does not.
public struct BehaviourItem: Sendable, Equatable {
    /// The question text as stored, choices included (`…\n\nChoices:\n (A) …\n (B) …`).
    public let question: String
    /// The matching (or correct) choice's letter, "A"…"Z".
    public let matching: String
    /// The other choice's letter.
    public let notMatching: String
    /// 0-based position in its file.
    public let index: Int

    public init(question: String, matching: String, notMatching: String, index: Int) {
        self.question = question
        self.matching = matching
        self.notMatching = notMatching
        self.index = index
    }

    /// Whether both answers are (A) or (B): CAA's A/B metric reads only those two tokens, so other items (four
    /// survival-instinct test items answer (C) or (E)) are reported as excluded.
    public var isAB: Bool { Set([matching, notMatching]) == ["A", "B"] }

    /// `(X)`, the answer as CAA appends it after `[/INST]`.
    public static func answer(_ letter: String) -> String { "(\(letter))" }
}

/// A CAA item file: the behaviour sets (`question`, `answer_matching_behavior`, `answer_not_matching_behavior`)
/// and the side-effect sets (`prompt`, `correct`, `incorrect`), as a list of `BehaviourItem`s in file order.
public struct BehaviourItems: Sendable, Equatable {
    /// The JSON keys of one kind of file.
    public struct Keys: Sendable, Equatable {
        public let question: String, matching: String, notMatching: String
        /// CAA's behaviour sets (generate and A/B test files).
        public static let behaviour = Keys(question: "question", matching: "answer_matching_behavior",
                                           notMatching: "answer_not_matching_behavior")
        /// The MMLU and TruthfulQA side-effect sets.
        public static let sideEffect = Keys(question: "prompt", matching: "correct", notMatching: "incorrect")

        /// The keys a file's text uses: the behaviour sets' when it has `answer_matching_behavior`, the side-effect
        /// sets' when it has `correct` and `prompt`; nil for neither (an open-ended set, another JSON file).
        public static func detect(_ text: String) -> Keys? {
            if text.contains("\"\(behaviour.matching)\"") { return .behaviour }
            if text.contains("\"\(sideEffect.matching)\""), text.contains("\"\(sideEffect.question)\"") { return .sideEffect }
            return nil
        }
    }

    public let name: String
    public let items: [BehaviourItem]

    /// The items both of whose answers are (A) or (B), and how many were left out.
    public var abItems: (items: [BehaviourItem], excluded: Int) {
        let kept = items.filter(\.isAB)
        return (kept, items.count - kept.count)
    }

    /// Loads and verifies the file with `role` ("generate", "test a/b", or the side-effect sets' "data") of a CAA
    /// descriptor from the mirror.
    public static func load(_ descriptor: DatasetDescriptor, role: String, keys: Keys,
                            from mirror: DatasetMirror) throws -> BehaviourItems {
        let file = try descriptor.file(role: role)
        return try parse(try mirror.verifiedData(file, of: descriptor), name: descriptor.name,
                         source: mirror.url(for: file).path, keys: keys)
    }

    /// Parses a JSON list of items. Each answer must be a letter in parentheses that the question offers as a
    /// choice (`(X)` appears in the question), and the two answers must differ; an error names the file, the
    /// item's index and the field.
    public static func parse(_ data: Data, name: String, source: String, keys: Keys) throws -> BehaviourItems {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DatasetError.malformed(path: source, line: nil, expected: "a JSON list of items", found: "invalid JSON (\(error.localizedDescription))")
        }
        guard let list = root as? [Any] else {
            throw DatasetError.malformed(path: source, line: nil, expected: "a JSON list of items", found: "a \(type(of: root))")
        }
        var items: [BehaviourItem] = []
        items.reserveCapacity(list.count)
        for (i, element) in list.enumerated() {
            func fail(_ field: String, _ expected: String, _ found: String) -> DatasetError {
                .malformed(path: source, line: nil, expected: "item \(i) \"\(field)\": \(expected)", found: found)
            }
            guard let object = element as? [String: Any] else { throw fail("", "an object", "\(element)".prefix(60).description) }
            func text(_ field: String) throws -> String {
                guard let value = object[field] else { throw fail(field, "a string", "nothing (the field is missing)") }
                guard let string = value as? String else { throw fail(field, "a string", "\(value)".prefix(60).description) }
                return string
            }
            let question = try text(keys.question)
            func letter(_ field: String) throws -> String {
                let raw = try text(field), answer = raw.trimmingCharacters(in: .whitespaces)
                let scalars = Array(answer.unicodeScalars)
                guard scalars.count == 3, scalars[0] == "(", scalars[2] == ")", ("A"..."Z").contains(scalars[1]) else {
                    throw fail(field, "a choice such as \"(A)\"", "\"\(raw.prefix(40))\"")
                }
                guard question.contains(answer) else {
                    throw fail(field, "a choice the question offers", "\"\(answer)\", which the question does not list")
                }
                return String(scalars[1])
            }
            let matching = try letter(keys.matching), notMatching = try letter(keys.notMatching)
            guard matching != notMatching else {
                throw fail(keys.notMatching, "a choice other than \"\(keys.matching)\"", "the same \"(\(matching))\"")
            }
            items.append(BehaviourItem(question: question, matching: matching, notMatching: notMatching, index: i))
        }
        return BehaviourItems(name: name, items: items)
    }
}
