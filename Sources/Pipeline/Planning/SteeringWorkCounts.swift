import Foundation

/// The tokens the steering-experiment kinds (`actadd_topic`, `caa_vectors`, `caa_ab_sweep`, `caa_open_ended`,
/// `caa_conditional`) will prefill and the decode steps they will take, counted from their parameters and dataset sizes for
/// `ResourceEstimate`. Prompt lengths are typical values (CAA's A/B prompts ~130 tokens, ActAdd's prompts ~12);
/// a stage with cells already done counts the remaining share of its cells.
struct SteeringWorkCounts {
    struct Work {
        var prefillTokens = 0.0
        var decodeSteps = 0.0
        /// Sequences decoded together, and the longest context, for the memory plan.
        var batch = 1
        var context = 256
        /// False when a dataset's size is unknown (then there is no time estimate).
        var known = true
        var text = ""
    }

    static let abTokens = 130, abSuffixTokens = 6, actAddPromptTokens = 12, openEndedTokens = 60

    let work: Work

    init(spec: StageSpec, manifest: Manifest, cells remaining: Int) {
        let p = spec.params
        func int(_ name: String, _ fallback: Int) -> Int { p[name]?.intValue ?? fallback }
        func rows(_ use: String?) -> Int? {
            guard let use else { return nil }
            let u = DatasetUse(parsing: use)
            return manifest.dataset(u.dataset).flatMap { DatasetRows.count($0, split: u.split) }
        }
        /// A dataset's items the stage reads: its rows, at most the parameter `cap` (`max_items`).
        func items(_ use: String?, cap: String = "max_items") -> Int? { rows(use).map { min($0, p[cap]?.intValue ?? $0) } }
        func value(_ cell: SweepCell, _ axis: String, _ param: String) -> JSONValue? { cell[axis] ?? p[param] }
        /// The total of counts, and whether every one is known.
        func sum(_ counts: [Int?]) -> (known: Bool, total: Int) { (!counts.contains(nil), counts.compactMap { $0 }.reduce(0, +)) }
        let cells = spec.cells.isEmpty ? [SweepCell(index: 0, coordinates: [])] : spec.cells
        let share = Double(remaining) / Double(cells.count)
        var w = Work()
        switch spec.kind {
        case .actAddTopic:
            let prompts = rows(p["prompts"]?.stringValue), samples = int("samples_per_prompt", 10), newTokens = int("max_new_tokens", 40)
            let chunk = min(samples, 32), calls = (samples + 31) / 32
            // Relatedness: each essay and the wikitext documents scored steered, per cell.
            let essays = ["on_topic_text", "off_topic_text"].compactMap { p[$0]?.stringValue }
                .compactMap { manifest.dataset(DatasetUse(parsing: $0).dataset).flatMap(DatasetRows.approximateTokens) }.reduce(0, +)
            let documents = p["relatedness_text"] == nil ? 0 : int("relatedness_documents", 200) * int("relatedness_max_tokens", 128)
            w.known = prompts != nil
            let n = Double(prompts ?? 0) * Double(cells.count) * share
            w.decodeSteps = n * Double(calls * newTokens)
            w.prefillTokens = n * Double(calls * chunk * Self.actAddPromptTokens) + Double(cells.count) * share * Double(essays + documents)
            w.batch = chunk
            w.context = Self.actAddPromptTokens + newTokens
            w.text = "\(prompts.map(String.init) ?? "?") prompts × \(samples) samples × \(newTokens) tokens per cell"
                + (essays + documents > 0 ? ", ~\(essays + documents) relatedness tokens" : "")
        case .caaVectors:
            let total: Int
            (w.known, total) = sum(cells.map { items(value($0, "behaviour", "generate")?.stringValue) })
            // Two prompts per item: the matching and the other answer letter.
            w.prefillTokens = Double(2 * total * Self.abTokens) * share
            w.batch = int("batch_size", 8)
            w.context = Self.abTokens
            w.text = "\(w.known ? String(total) : "?") items × 2 answers × ~\(Self.abTokens) tokens"
        case .caaABSweep:
            // A behaviour's cells (per system prompt) share each prompt's unsteered prefix: it is prefilled once,
            // and each cell runs only the tokens from `[/INST]` on.
            let side = p["side_effect"]?.stringValue
            var groups: [String: Int] = [:]
            let counts = cells.map { c -> Int? in
                let n = items(side ?? value(c, "behaviour", "behaviours")?.stringValue)
                let group = [value(c, "behaviour", "behaviours"), value(c, "system_prompt", "system_prompt")]
                    .map { $0?.stringValue ?? "" }.joined(separator: "|")
                groups[group] = n ?? 0
                return n
            }
            let total: Int
            (w.known, total) = sum(counts)
            w.prefillTokens = (Double(groups.values.reduce(0, +) * Self.abTokens) + Double(total * Self.abSuffixTokens)) * share
            w.batch = int("prompts_per_batch", 8)
            w.context = Self.abTokens
            w.text = "\(w.known ? String(total) : "?") A/B prompts over \(cells.count) cells, ~\(Self.abTokens) tokens prefilled once per behaviour"
        case .caaConditional:
            // Every cell (condition block) reads every labelled prompt of both splits once up to `[/INST]`, then its
            // last tokens unsteered and steered.
            let sets = ["should_steer", "should_not_steer"].flatMap { p[$0]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            let splits = ["validation_split", "test_split"].compactMap { p[$0]?.stringValue }
            let prompts: Int
            (w.known, prompts) = sum(sets.flatMap { set in splits.map { items("\(set):\($0)") } })
            w.prefillTokens = Double(cells.count * prompts * (Self.abTokens + 2 * Self.abSuffixTokens)) * share
            w.batch = int("prompts_per_batch", 8)
            w.context = Self.abTokens
            w.text = "\(w.known ? String(prompts) : "?") labelled A/B prompts × \(cells.count) condition blocks, scored unsteered and steered"
            // Open-ended questions: read up to the steering start, then answered, eight at a time, in every cell.
            let openSets = ["open_ended_should_steer", "open_ended_should_not_steer"].flatMap { p[$0]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            if !openSets.isEmpty {
                let (known, questions) = sum(openSets.map { items($0, cap: "open_ended_max_items") })
                let newTokens = int("max_new_tokens", 48)
                w.known = w.known && known
                w.prefillTokens += Double(cells.count * questions * 2 * Self.openEndedTokens) * share
                w.decodeSteps = Double(cells.count * ((questions + 7) / 8) * newTokens) * share
                w.context = max(w.context, Self.openEndedTokens + newTokens)
                w.text += "; \(known ? String(questions) : "?") open-ended answers × \(newTokens) tokens per block"
            }
        default:  // caa_open_ended
            let newTokens = int("max_new_tokens", 48)
            let counts = cells.map { items(value($0, "behaviour", "behaviours")?.stringValue) }
            let total: Int
            (w.known, total) = sum(counts)
            let neutral = p["neutral"] == nil ? 0 : 2 * int("neutral_tokens", 256)
            w.prefillTokens = (Double(total * Self.openEndedTokens) + Double(cells.count * neutral)) * share
            // A cell's questions are answered eight at a time.
            w.decodeSteps = Double(counts.map { (($0 ?? 0) + 7) / 8 }.reduce(0, +) * newTokens) * share
            w.batch = min(8, max(1, counts.compactMap { $0 }.max() ?? 1))
            w.context = Self.openEndedTokens + newTokens
            w.text = "\(w.known ? String(total) : "?") answers × \(newTokens) tokens" + (neutral > 0 ? ", KL on \(neutral / 2) neutral tokens per cell" : "")
        }
        work = w
    }
}
