import Foundation

/// The paper's representation-tuning split of facts_true_false: 244 true + 244 false statements for training
/// (in the order the paper paired them), 62 + 62 for validation (file order).
///
/// Stored as data (`datasets/facts_true_false.split.json`, 0-based row indices) — derived once with pandas
/// `sample(n=244, random_state=42)` per label; see the file's `derivation` field. No RNG is ported.
public struct FactsTuningSplit: Sendable, Equatable, Codable {
    /// Row indices by label.
    public struct Part: Sendable, Equatable, Codable {
        public let `true`: [Int]
        public let `false`: [Int]
    }

    public let dataset: String
    /// sha256 of the CSV the indices refer to.
    public let sha256: String
    public let derivation: String
    public let train: Part
    public let validation: Part

    /// The conventional location: `<repo>/datasets/facts_true_false.split.json`.
    public static func defaultURL(descriptorDirectory: URL) -> URL {
        descriptorDirectory.appendingPathComponent("facts_true_false.split.json")
    }

    public static func load(from url: URL) throws -> FactsTuningSplit {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        do { return try JSONDecoder().decode(FactsTuningSplit.self, from: data) } catch {
            throw DatasetError.malformed(path: url.path, line: nil,
                                         expected: "a split file with dataset, sha256, derivation, train{true,false}, validation{true,false}",
                                         found: "\(error)")
        }
    }

    /// (true, false) statement pairs for training, in the paper's order.
    public func trainingPairs(_ statements: TrueFalseStatements) throws -> [(true: TrueFalseStatement, false: TrueFalseStatement)] {
        try pairs(train, statements)
    }

    /// (true, false) statement pairs for validation (file order).
    public func validationPairs(_ statements: TrueFalseStatements) throws -> [(true: TrueFalseStatement, false: TrueFalseStatement)] {
        try pairs(validation, statements)
    }

    /// Checks the indices against the loaded statements: in range, labels as claimed, no overlap, every row used once.
    public func validate(against statements: TrueFalseStatements) throws {
        let all = train.true + train.false + validation.true + validation.false
        guard Set(all).count == all.count else {
            throw DatasetError.malformed(path: "facts_true_false.split.json", line: nil,
                                         expected: "each row index used once", found: "\(all.count - Set(all).count) repeated indices")
        }
        _ = try pairs(train, statements)
        _ = try pairs(validation, statements)
    }

    private func pairs(_ part: Part, _ statements: TrueFalseStatements)
        throws -> [(true: TrueFalseStatement, false: TrueFalseStatement)] {
        guard part.true.count == part.false.count else {
            throw DatasetError.malformed(path: "facts_true_false.split.json", line: nil,
                                         expected: "as many true as false indices",
                                         found: "\(part.true.count) true, \(part.false.count) false")
        }
        func statement(_ index: Int, isTrue: Bool) throws -> TrueFalseStatement {
            guard statements.statements.indices.contains(index) else {
                throw DatasetError.malformed(path: "facts_true_false.split.json", line: nil,
                                             expected: "row index in 0..<\(statements.count)", found: "\(index)")
            }
            let s = statements.statements[index]
            guard s.isTrue == isTrue else {
                throw DatasetError.malformed(path: "facts_true_false.split.json", line: nil,
                                             expected: "row \(index) labelled \(isTrue ? 1 : 0)", found: "label \(s.isTrue ? 1 : 0)")
            }
            return s
        }
        return try zip(part.true, part.false).map { (try statement($0, isTrue: true), try statement($1, isTrue: false)) }
    }
}
