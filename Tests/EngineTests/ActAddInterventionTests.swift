import Engine
import Foundation
import Testing

/// ActAdd's position-aligned addition (`Intervention.actAdd`) against the same additions written out one position
/// at a time with plain `.add` interventions: the same kernel, so the logits must agree to the bit.
struct ActAddInterventionTests {
    static let config = GradientCheckTests.tinyConfig()   // width 8
    static let model = LlamaModel.random(config: config, seed: 9)
    static let d = config.embeddingLength

    /// Two rows of steering: row k is added at position k.
    static let rows: [Float] = (0..<(2 * d)).map { Float($0 % 5) - 2 + 0.25 * Float($0 / d) }

    static func logits(_ prompt: [Int], _ interventions: [Intervention]) -> [Float] {
        var items = [ForwardItem(tokens: prompt, cache: model.makeCache(), interventions: interventions, logits: .all)]
        return model.forward(&items)[0].logits
    }

    static func perPosition(site: ResidualSite) -> [Intervention] {
        (0..<2).map { k in
            Intervention(site: site, positions: .positions([k]),
                         operation: .add(vector: Array(rows[k * d..<(k + 1) * d]), multiplier: 1))
        }
    }

    @Test func rowsGoToTheirPositionsAtTheInputOfTheBlock() {
        let prompt = [3, 7, 1, 4]
        // Block 2's input is block 1's output; block 0's input is the embeddings.
        #expect(Self.logits(prompt, [.actAdd(block: 2, rows: Self.rows)]) == Self.logits(prompt, Self.perPosition(site: .block(1))))
        #expect(Self.logits(prompt, [.actAdd(block: 0, rows: Self.rows)]) == Self.logits(prompt, Self.perPosition(site: .embeddings)))
        // And it does change something.
        #expect(Self.logits(prompt, [.actAdd(block: 2, rows: Self.rows)]) != Self.logits(prompt, []))
    }

    @Test func decodeStepsAreUntouched() {
        // A one-token prompt takes only row 0; the generated positions (1, 2, …) never take row 1.
        let options = GenerationOptions(maxNewTokens: 6)
        let actAdd = Self.model.generate([GenerationRequest(prompt: [5], interventions: [.actAdd(block: 1, rows: Self.rows)])], options: options)
        let rowZero = Self.model.generate([GenerationRequest(prompt: [5], interventions: [Self.perPosition(site: .block(0))[0]])], options: options)
        #expect(actAdd[0].tokens == rowZero[0].tokens)
        // In a batch beside an unsteered sequence, each gets what it gets alone.
        let batch = Self.model.generate([GenerationRequest(prompt: [2, 6, 1], interventions: [.actAdd(block: 1, rows: Self.rows)]),
                                         GenerationRequest(prompt: [2, 6, 1])], options: options)
        let alone = Self.model.generate([GenerationRequest(prompt: [2, 6, 1])], options: options)
        let steeredAlone = Self.model.generate([GenerationRequest(prompt: [2, 6, 1], interventions: [.actAdd(block: 1, rows: Self.rows)])], options: options)
        #expect(batch[1].tokens == alone[0].tokens)
        #expect(batch[0].tokens == steeredAlone[0].tokens)
    }

    @Test func overflowIsDetectedOverTheRows() {
        #expect(!Intervention.actAdd(block: 1, rows: Self.rows).overflowsFP32)
        #expect(Intervention.actAdd(block: 1, rows: [0, 2e19, 0]).overflowsFP32)
    }
}
