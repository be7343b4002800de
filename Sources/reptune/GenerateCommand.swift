import CommandLineSpec
import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune generate MODEL (--prompt TEXT | --chat FILE)`: a continuation, greedy or sampled, optionally steered.
enum GenerateCommand {
    struct Output: Encodable {
        var promptIDs: [Int]
        var ids: [Int]
        var text: String
        var finishReason: String
        var peakResidentBytes: Int
    }

    static func run(_ a: ParsedArguments) throws {
        let maxTokens = a.int("max-tokens") ?? 64
        let p = try PromptOptions(a, maxNewTokens: maxTokens)
        let temperature = a.float("temperature") ?? 0
        let sampling: Sampling = temperature > 0
            ? .random(temperature: temperature, topP: a.float("top-p") ?? 1, seed: UInt64(a.int("seed") ?? 0))
            : .greedy
        let stops = p.model.tokenizer.stopTokenIDs
        let result = p.model.network.generate(
            [GenerationRequest(prompt: p.ids, interventions: p.interventions)],
            options: GenerationOptions(maxNewTokens: maxTokens, sampling: sampling, stopTokens: stops))[0]
        if result.finishReason == .nonFinite { throw p.nonFinite() }
        let text = p.model.tokenizer.decode(result.tokens, skipSpecial: true)
        if a.json {
            return try printJSON(Output(promptIDs: p.ids, ids: result.tokens, text: text, finishReason: result.finishReason.rawValue,
                                         peakResidentBytes: ProcessMemory.peakResidentBytes))
        }
        print(text)
        if result.tokens.allSatisfy(stops.contains) {
            let stop = result.tokens.first.map { p.model.tokenizer.decode([$0], skipSpecial: false) } ?? "nothing"
            let hint = a.isGiven("prompt") ? "; --prompt is raw text: for a chat model, --chat FILE.json applies its chat template" : ""
            FileHandle.standardError.write(Data("reptune generate: the model produced no text (it ended at once with \(stop))\(hint)\n".utf8))
        }
    }
}
