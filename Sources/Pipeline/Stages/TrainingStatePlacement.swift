import Engine
import Foundation

/// Where a tuning cell keeps its gradients and AdamW moments (12 bytes a trainable weight): in memory when the
/// whole tuning step fits in the memory available, else on disk (`RepresentationTuner(stateDirectory:)`), which
/// gives the same results to the bit at the cost of paging. `REPTUNE_TUNING_STATE=memory|disk` overrides the choice.
public enum TrainingStatePlacement: Sendable, Equatable {
    case memory
    /// On disk, and why.
    case disk(String)

    public static func choose(model: LlamaModel, settings: TuningSettings, batch: Int, tokens: Int,
                              available: Int? = MachineMemory.availableBytes) -> TrainingStatePlacement {
        switch ProcessInfo.processInfo.environment["REPTUNE_TUNING_STATE"] {
        case "memory": return .memory
        case "disk": return .disk("REPTUNE_TUNING_STATE=disk")
        default: break
        }
        guard let available else { return .memory }
        let c = model.config
        let trainable = settings.trainableBlocks.count * c.weightsPerBlock
        // The state itself, plus the tape and step temporaries of `MemoryPlan` (the weights are already loaded).
        let workload = MemoryPlan.Workload.training(batch: batch, tokens: tokens, trainable: settings.trainableBlocks.count,
                                                    recorded: c.blockCount - settings.trainableBlocks.lowerBound)
        let tape = MemoryPlan.trainingActivations(config: c, workload: workload)
        let needed = 16 * trainable + tape
        guard needed > available else { return .memory }
        func gib(_ n: Int) -> String { String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        return .disk("the trainable blocks' weights, gradients and moments and the activations take \(gib(needed)), "
                     + "\(gib(available)) of memory is available")
    }
}
