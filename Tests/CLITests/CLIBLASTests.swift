import Engine
import Foundation
import Testing
import TestSupport

/// `reptune` corrects OpenBLAS's kernel choice on a processor it misdetects by restarting itself once, and leaves a
/// user's OPENBLAS_CORETYPE alone.
@Suite(.enabled(if: CLI.executable != nil, CLI.missing))
struct CLIBLASTests {
    func blas(environment: [String: String] = [:], unset: [String] = []) throws -> [String: String] {
        let r = try CLI.run(["blas", "--json"], environment: environment, unset: unset)
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONDecoder().decode([String: String].self, from: Data(r.stdout.utf8))
    }

    @Test func withoutTheVariableTheBinaryRunsTheKernelsTheProcessorSupports() throws {
        let info = try blas(unset: ["OPENBLAS_CORETYPE", "REPTUNE_BLAS_DETECTED"])
        let core = try #require(info["core"]), detected = info["detected"] ?? ""
        if detected.isEmpty {
            // OpenBLAS's own choice was kept: it must be one reptune would not correct.
            #expect(BLASCore.override(current: core, cpuFlags: BLASCore.cpuFlags(), environment: [:]) == nil, "\(info)")
            #expect(info["OPENBLAS_CORETYPE"] == "")
        } else {
            // Restarted once: the kernel set is the correction of what OpenBLAS detected.
            #expect(BLASCore.override(current: detected, cpuFlags: BLASCore.cpuFlags(), environment: [:]) == core, "\(info)")
            #expect(info["OPENBLAS_CORETYPE"] == core)
        }
    }

    @Test func aUsersSettingIsKept() throws {
        let info = try blas(environment: ["OPENBLAS_CORETYPE": "Haswell"], unset: ["REPTUNE_BLAS_DETECTED"])
        #expect(info["core"] == "Haswell" && info["detected"] == "", "\(info)")
    }
}
