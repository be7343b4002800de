import CBLAS
import Engine
import Testing

/// The system-library target links OpenBLAS: a 2×2 product through cblas_sgemm.
@Test func sgemmLinksAndMultiplies() {
    let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
    var c = [Float](repeating: 0, count: 4)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
    #expect(c == [19, 22, 43, 50])
}

@Suite("Choosing the OpenBLAS kernel set")
struct BLASCoreTests {
    let avx512: Set<String> = ["fpu", "sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]

    @Test func aMisdetectedProcessorGetsTheBestKernelSetItsFlagsAllow() {
        #expect(BLASCore.override(current: "Prescott", cpuFlags: avx512, environment: [:]) == "SkylakeX")
        #expect(BLASCore.override(current: "Prescott", cpuFlags: ["avx", "avx2", "fma"], environment: [:]) == "Haswell")
        #expect(BLASCore.override(current: "Sandybridge", cpuFlags: ["avx", "avx2", "fma", "avx512f"], environment: [:]) == "Haswell")
        #expect(BLASCore.override(current: "Prescott", cpuFlags: ["sse3", "avx"], environment: [:]) == nil)
    }

    @Test func openBLASsOwnChoiceAndTheUsersSettingStand() {
        #expect(BLASCore.override(current: "Zen", cpuFlags: avx512, environment: [:]) == nil)
        #expect(BLASCore.override(current: "SkylakeX", cpuFlags: avx512, environment: [:]) == nil)
        #expect(BLASCore.override(current: "Haswell", cpuFlags: avx512, environment: [:]) == nil)
        #expect(BLASCore.override(current: "Prescott", cpuFlags: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"]) == nil)
    }

    @Test func flagsAreReadFromCpuinfo() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse3 avx2 fma avx512f\n\nprocessor\t: 1\nflags\t\t: fpu\n"
        #expect(BLASCore.cpuFlags(cpuinfo: text) == ["fpu", "sse3", "avx2", "fma", "avx512f"])
        #expect(BLASCore.cpuFlags(cpuinfo: "no flags here") == [])
        #expect(BLASCore.cpuFlags(cpuinfo: nil) == [])
        #expect(!BLASCore.current.isEmpty && BLASCore.configuration.contains("OpenBLAS"))
    }
}
