import Experiments
import Foundation

/// Scoring the paper's stored generations (`representation_tuning_outputs/`) instead of generating: an
/// `evaluate` stage whose `dataset` is that directory reads the answers of `paper_condition` on the task's set
/// (facts → the gpt4facts file, labels from the `labels` statement CSV; tqa → the tqa file, labels by item
/// parity) and stores them as any evaluation. This is how `experiments/rescore-paper.json` reproduces METHOD.md §6.
enum PaperRescoring {
    /// Manifest names of the paper's conditions.
    static let conditions: [String: PaperCondition] = [
        "base": .base, "honesty_steered": .honestySteered, "dishonesty_steered": .dishonestySteered,
        "truth_tuned": .truthTuned, "lie_tuned": .lieTuned, "honesty_tuned": .honestyTuned, "dishonesty_tuned": .dishonestyTuned,
    ]

    static func cell(_ context: StageContext, _ params: EvaluateParams, directory: URL) throws -> CellResult {
        let id = context.stage.id
        guard let name = params.paperCondition, let condition = conditions[name] else {
            throw StageInputError("stage \(id): scoring the paper's stored outputs needs `paper_condition` (one of "
                + conditions.keys.sorted().joined(separator: ", ") + ")")
        }
        let task = params.task
        let set: PaperEvaluationSet
        let scorer: AnswerScorer
        switch task {
        case "facts": set = .gpt4Facts; scorer = .trueFalse
        case "tqa": set = .truthfulQA; scorer = .ab
        default: throw StageInputError("stage \(id): the paper stored outputs for tasks facts and tqa only, not `\(task)`")
        }
        let file = PaperStoredOutputs.fileName(condition, set)
        let items = try PaperStoredOutputs.load(url: directory.appendingPathComponent(file))
        let answers = try PaperStoredOutputs.answers(condition, items, source: file)
        try context.verifyKeyed(directory, what: "the paper's stored outputs")
        let honest: [AnswerChoice]
        if set == .gpt4Facts {
            guard params.labels != nil else {
                throw StageInputError("stage \(id): rescoring facts needs `labels`: the gpt4_facts statement CSV the answers belong to")
            }
            let statements = try context.statements("labels")
            guard statements.count == answers.count else {
                throw StageInputError("stage \(id): \(file) holds \(answers.count) answers but `labels` has \(statements.count) statements")
            }
            honest = statements.map(\.honestChoice)
        } else {
            honest = answers.indices.map(TruthfulQAMisconceptions.correctChoice(at:))
        }
        let scored = zip(items, answers).enumerated().map { i, pair in
            EvaluatedAnswer(item: i, promptText: pair.0.sentence, output: pair.1, choice: scorer.score(pair.1),
                            honest: honest[i], shareOfA: nil)
        }
        return EvaluationCell.result(scored, outputs: [
            "task": .string(task), "variant": .string("paper \(name)"), "dataset": .string("paper \(set.rawValue)"),
        ])
    }
}
