import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// One representation-tuning step's loss and gradients match PyTorch autograd on the same model
/// (`../shared/reference/smollm2-135m-q4_1/gradient.json`).
@Suite(.enabled(if: Fixtures.hasModel && Fixtures.hasShared, Fixtures.noModel))
struct GradientParityTests {
    @Test func dualLossGradientsMatchAutograd() throws {
        let model = try #require(SharedModel.model)
        let dir = Fixtures.reference
        let ref = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("gradient.json"))) as? [String: Any])
        let prompt = (ref["prompt_token_ids"] as! [NSNumber]).map(\.intValue)
        let completion = (ref["completion_token_ids"] as! [NSNumber]).map(\.intValue)
        let vector = (ref["vector"] as! [NSNumber]).map(\.floatValue)
        let layer = (ref["layer"] as! NSNumber).intValue, position = (ref["position"] as! NSNumber).intValue
        #expect(position == prompt.count - 1 - (ref["offset"] as! NSNumber).intValue)
        let sequence = TrainingSequence(
            tokens: prompt + completion,
            tokenTargets: completion.enumerated().map { .next($0.element, at: prompt.count - 1 + $0.offset) },
            cosineTargets: [CosineTarget(layer: layer, position: position, vector: vector)])
        let trainable = 12..<model.config.blockCount
        let grads = Dictionary(uniqueKeysWithValues: trainable.map { ($0, BlockGradients(zerosLike: model.weights.blocks[$0])) })
        let report = model.lossAndGradients([sequence], crossEntropyWeight: 1 / Float(truncating: ref["ce_divisor"] as! NSNumber),
                                            trainable: trainable, into: grads)
        #expect(abs(report.loss - (ref["loss"] as! NSNumber).doubleValue) < 1e-4, "loss \(report.loss)")
        #expect(abs(report.crossEntropy - (ref["ce"] as! NSNumber).doubleValue) < 1e-4, "CE \(report.crossEntropy)")
        #expect(abs(Double(report.cosines[0]) - (ref["cos"] as! NSNumber).doubleValue) < 1e-4, "cos \(report.cosines[0])")
        for (name, info) in ref["grads"] as! [String: [String: Any]] {
            let parts = name.split(separator: ".", maxSplits: 2)
            let block = Int(parts[1])!, tensor = String(parts[2])
            let expected = try Fixtures.readF32(dir.appendingPathComponent(info["file"] as! String))
            let got = try #require(grads[block]?.tensor(tensor, config: model.config), "\(name)")
            #expect(got.count == expected.count)
            let err = Compare.relativeL2(got, expected)
            #expect(err < 1e-3, "\(name): relative L2 error \(err)")
        }
    }
}
