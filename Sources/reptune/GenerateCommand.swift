import Engine
import Foundation
import ModelFormats
import Pipeline

/// `reptune generate MODEL (--prompt TEXT | --chat FILE)`: a continuation, greedy or sampled, optionally steered.
enum GenerateCommand {
    static let spec = Arguments.Spec(
        usage: "generate [MODEL] (--prompt TEXT | --chat FILE.json) [--template NAME] [--max-tokens N] [--temperature T --top-p P --seed S] [--steer FILE --layer L --mult M [--positions all|prompt|generated]]",
        summary: "generate a continuation (greedy unless --temperature > 0), optionally steered",
        valued: PromptOptions.valued.union(["max-tokens", "temperature", "top-p", "seed"]), flags: PromptOptions.flags)

    struct Output: Encodable {
        var promptIDs: [Int]
        var ids: [Int]
        var text: String
        var finishReason: String
        var peakResidentBytes: Int
    }

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        let maxTokens = try a.int("max-tokens", in: 1...ManifestFields.maxTokens) ?? 64
        let p = try PromptOptions(a, maxNewTokens: maxTokens)
        let temperature = try a.float("temperature", in: 0...1000) ?? 0
        let sampling: Sampling = temperature > 0
            ? .random(temperature: temperature, topP: try a.float("top-p", in: 0...1) ?? 1,
                      seed: UInt64(try a.int("seed", in: 0...Int.max) ?? 0))
            : .greedy
        let stops = p.model.tokenizer.stopTokenIDs
        let result = p.model.network.generate(
            [GenerationRequest(prompt: p.ids, interventions: p.interventions)],
            options: GenerationOptions(maxNewTokens: maxTokens, sampling: sampling, stopTokens: stops))[0]
        if result.finishReason == .nonFinite { throw p.nonFinite() }
        let text = p.model.tokenizer.decode(result.tokens, skipSpecial: true)
        if a.flags.contains("json") {
            return try printJSON(Output(promptIDs: p.ids, ids: result.tokens, text: text, finishReason: result.finishReason.rawValue,
                                         peakResidentBytes: ProcessMemory.peakResidentBytes))
        }
        print(text)
        if result.tokens.allSatisfy(stops.contains) {
            let stop = result.tokens.first.map { p.model.tokenizer.decode([$0], skipSpecial: false) } ?? "nothing"
            let hint = a.options["prompt"] != nil ? "; --prompt is raw text: for a chat model, --chat FILE.json applies its chat template" : ""
            FileHandle.standardError.write(Data("reptune generate: the model produced no text (it ended at once with \(stop))\(hint)\n".utf8))
        }
    }
}
