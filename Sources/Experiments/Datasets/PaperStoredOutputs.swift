import Foundation

/// One item of the paper's stored generations (`representation_tuning_outputs/*.json`, Llama-2-13b-chat):
/// the prompt, the unsteered answer and the steered answers per `layer{L}_mult{M}` setting.
public struct PaperStoredGeneration: Sendable, Equatable, Decodable {
    /// Answers under one steering setting.
    public struct Steered: Sendable, Equatable, Decodable {
        public let positive: String
        public let negative: String
        public let zeroedOut: String?

        enum CodingKeys: String, CodingKey {
            case positive = "answer_pos", negative = "answer_neg", zeroedOut = "answer_zeroedout"
        }
    }

    /// The prompt as the paper sent it.
    public let sentence: String
    /// Unsteered greedy output.
    public let neutral: String
    /// Keyed by `layer{L}_mult{M}`, e.g. `layer15_mult19`.
    public let steered: [String: Steered]

    enum CodingKeys: String, CodingKey { case sentence, neutral = "answer_neut", steered }

    /// The steered answers at layer L, multiplier M (nil if that setting was not run).
    public func steered(layer: Int, multiplier: Int) -> Steered? { steered["layer\(layer)_mult\(multiplier)"] }
}

/// The paper's stored runs that METHOD.md §6 cites, mapped from file names (SOURCES.md: prefix = model,
/// suffix = evaluation set) to conditions.
///
/// | condition | file prefix | answer field |
/// |---|---|---|
/// | base | `untunedmodel` | `answer_neut` |
/// | honesty-steered (L15, +19) | `untunedmodel` | `steered.layer15_mult19.answer_pos` |
/// | dishonesty-steered (L15, −19) | `untunedmodel` | `steered.layer15_mult19.answer_neg` |
/// | truth-tuned (token loss, honest labels) | `truthtunedmodel` | `answer_neut` |
/// | lie-tuned (token loss, swapped labels) | `lietunedmodel` | `answer_neut` |
/// | honesty-tuned (representation + truth) | `posplustruthtunedmodel` | `answer_neut` |
/// | dishonesty-tuned (representation + lie) | `negpluslietunedmodel` | `answer_neut` |
///
/// Every file is `<prefix>_llama2_13bchat_steering_honesty_paired_last22_meandiff_coronly_offset7_l11to17_<set>.json`
/// with set `gpt4facts` or `tqa`.
public enum PaperCondition: String, Sendable, CaseIterable, Codable {
    case base, honestySteered, dishonestySteered, truthTuned, lieTuned, honestyTuned, dishonestyTuned

    public var modelPrefix: String {
        switch self {
        case .base, .honestySteered, .dishonestySteered: "untunedmodel"
        case .truthTuned: "truthtunedmodel"
        case .lieTuned: "lietunedmodel"
        case .honestyTuned: "posplustruthtunedmodel"
        case .dishonestyTuned: "negpluslietunedmodel"
        }
    }

    /// The chart setting of the steered conditions: layer 15, multiplier 19.
    public static let chartLayer = 15
    public static let chartMultiplier = 19

    /// The answer this condition is scored on.
    public func answer(_ item: PaperStoredGeneration) -> String? {
        switch self {
        case .honestySteered: item.steered(layer: Self.chartLayer, multiplier: Self.chartMultiplier)?.positive
        case .dishonestySteered: item.steered(layer: Self.chartLayer, multiplier: Self.chartMultiplier)?.negative
        default: item.neutral
        }
    }
}

/// The evaluation set of a stored run.
public enum PaperEvaluationSet: String, Sendable, CaseIterable, Codable {
    case gpt4Facts = "gpt4facts"
    case truthfulQA = "tqa"
}

/// Reading the stored generations of one (condition, set) from the `representation_tuning_outputs` directory.
public enum PaperStoredOutputs {
    public static func fileName(_ condition: PaperCondition, _ set: PaperEvaluationSet) -> String {
        "\(condition.modelPrefix)_llama2_13bchat_steering_honesty_paired_last22_meandiff_coronly_offset7_l11to17_\(set.rawValue).json"
    }

    public static func load(_ condition: PaperCondition, _ set: PaperEvaluationSet,
                            directory: URL) throws -> [PaperStoredGeneration] {
        try load(url: directory.appendingPathComponent(fileName(condition, set)))
    }

    public static func load(url: URL) throws -> [PaperStoredGeneration] {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError.missingFile(dataset: "representation_tuning_outputs", path: url.path)
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        do { return try JSONDecoder().decode([PaperStoredGeneration].self, from: data) } catch {
            throw DatasetError.malformed(path: url.path, line: nil,
                                         expected: "a JSON list of {sentence, answer_neut, steered}", found: "\(error)")
        }
    }

    /// The answers a condition is scored on, in item order; throws if an item lacks the needed setting.
    public static func answers(_ condition: PaperCondition, _ items: [PaperStoredGeneration], source: String) throws -> [String] {
        try items.enumerated().map { index, item in
            guard let answer = condition.answer(item) else {
                throw DatasetError.malformed(path: source, line: nil, expected: "item \(index) to have steered.layer15_mult19",
                                             found: "settings \(item.steered.keys.sorted().prefix(5).joined(separator: ", "))…")
            }
            return answer
        }
    }
}
