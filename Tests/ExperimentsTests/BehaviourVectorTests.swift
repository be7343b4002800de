import Engine
import Experiments
import Foundation
import ModelFormats
import Testing
import TestSupport

/// Mean-difference and PCA directions on synthetic activations with a known direction, and on SmolLM2.
struct BehaviourVectorTests {
    /// Pairs whose honest member is `dishonest + 3·u + noise` along a known unit `u`.
    static func synthetic(n: Int, d: Int) -> (ActivationMatrix, ActivationMatrix, [Float]) {
        var g = SeededGenerator(seed: 12)
        var u = (0..<d).map { _ in g.nextUnit() - 0.5 }
        let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        u = u.map { $0 / norm }
        var honest = [Float](), dishonest = [Float]()
        for _ in 0..<n {
            let base = (0..<d).map { _ in 2 * (g.nextUnit() - 0.5) }
            dishonest += base
            honest += (0..<d).map { base[$0] + 3 * u[$0] + 0.2 * (g.nextUnit() - 0.5) }
        }
        return (ActivationMatrix(layers: [0], width: d, rows: [0: honest], count: n),
                ActivationMatrix(layers: [0], width: d, rows: [0: dishonest], count: n), u)
    }

    @Test func recoversAKnownDirection() {
        let (h, x, u) = Self.synthetic(n: 60, d: 16)
        for method in [VectorMethod.meanDifference, .pca(component: 1, onDifferences: true), .pca(component: 1, onDifferences: false)] {
            let v = BehaviourVector(method: method, honest: h, dishonest: x)
            let cos = zip(v.directions[0]!, u).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(cos > 0.97, "\(method): cos to the planted direction \(cos)")
            #expect(v.diagnostics[0]!.auroc > 0.99, "\(method)")
        }
    }

    @Test func aurocDefinition() {
        #expect(BehaviourVector.auroc(positive: [3, 4], negative: [1, 2]) == 1)
        #expect(BehaviourVector.auroc(positive: [1], negative: [1]) == 0.5)
        #expect(BehaviourVector.auroc(positive: [1, 3], negative: [2]) == 0.5)
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData))
    func smolLM2HonestyVectorSeparatesHeldOutPairs() throws {
        let model = try LanguageModel(gguf: Fixtures.defaultModel)
        let catalog = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: Fixtures.repoRoot))
        let facts = try TrueFalseStatements.load(catalog.descriptor(named: "facts_true_false"), from: Fixtures.mirror)
        let pairs = ContrastPrompts.paired(Array(facts.statements.prefix(64)))
        let collector = ActivationCollector(model: model, template: try #require(model.chatTemplate))
        let layers = [4, 10, 15, 20, 25]
        // The label letter is the last token: read the residual there. 48 pairs to fit, 16 held out.
        let h = collector.collect(pairs.map { $0.honest }, layers: layers), x = collector.collect(pairs.map { $0.dishonest }, layers: layers)
        func subset(_ m: ActivationMatrix, _ r: Range<Int>) -> ActivationMatrix {
            ActivationMatrix(layers: m.layers, width: m.width,
                             rows: m.rows.mapValues { Array($0[(r.lowerBound * m.width)..<(r.upperBound * m.width)]) }, count: r.count)
        }
        let vector = BehaviourVector(method: .meanDifference, honest: subset(h, 0..<48), dishonest: subset(x, 0..<48))
        let heldOut = layers.map { vector.auroc(layer: $0, honest: subset(h, 48..<64), dishonest: subset(x, 48..<64)) }
        for l in layers { #expect(vector.diagnostics[l]!.norm > 0) }
        // What SmolLM2 shows (reported, and the bar it must keep): the persona is linearly readable at the
        // label token, clearly above chance on pairs the vector never saw.
        print("SmolLM2 mean-difference honesty vector, held-out AUROC per layer:", zip(layers, heldOut).map { "\($0): \(String(format: "%.3f", $1))" })
        #expect(heldOut.max()! > 0.65, "held-out AUROC per layer \(zip(layers, heldOut).map { "\($0): \(String(format: "%.3f", $1))" })")
    }
}
