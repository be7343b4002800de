import Engine
import Foundation
import ModelFormats
import Testing
import TestSupport

/// One representation-tuning step's loss and gradients match PyTorch autograd on the same model
/// (`../shared/reference/smollm2-135m-q4_1/gradient.json`), on fp32 weights and on native ones.
///
/// Native tolerance: the step's 45-token forward pass goes through decoded weight panels and sgemm (the fp32
/// arithmetic), the head's two target rows through the dot path with 16-bit activations (relative error about
/// 1/65534 per block of 32), and the backward pass through frozen and trainable native projections by
/// transposed products over panels (the same products, summed in another order). So the gradients must meet the
/// same 1e-3 relative bound as fp32 (measured: 5e-5–1e-4 native, 2e-5–6e-5 fp32), and agree with the fp32
/// engine's to 5e-4 (measured: at most 1.4e-4, most from the head's logits).
@Suite(.serialized, .enabled(if: Fixtures.hasModel, Fixtures.noModel), .enabled(if: Fixtures.hasShared, Fixtures.noShared))
struct GradientParityTests {
    static let native: LlamaModel? = try? LlamaModel(gguf: GGUFFile(contentsOf: Fixtures.defaultModel), weights: .native)

    @Test func dualLossGradientsMatchAutograd() throws {
        _ = try gradients(try #require(SharedModel.model))
    }

    @Test func nativeWeightsGiveTheSameGradients() throws {
        let native = try #require(Self.native)
        #expect(native.weights.blocks.allSatisfy { $0.projections.allSatisfy(\.isNative) })
        let n = try gradients(native), f = try gradients(try #require(SharedModel.model))
        for (block, g) in n {
            for t in BlockTensor.present(native.config) {
                let a = try #require(g.values(of: t, config: native.config)), b = try #require(f[block]?.values(of: t, config: native.config))
                let err = Compare.relativeL2(a, b)
                #expect(err < 5e-4, "block \(block) \(t.rawValue): native vs fp32 relative L2 \(err)")
            }
        }
    }

    /// The reference step on `model`: checks the loss terms and the reference gradients, returns every gradient.
    func gradients(_ model: LlamaModel) throws -> [Int: BlockGradients] {
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
        return grads
    }
}
