// swift-tools-version:6.0
import PackageDescription

// reptune: activation steering and representation tuning on a built-in transformer engine.
// Layers (imports point down only): reptune CLI → CommandLineSpec, Server → Pipeline → Experiments → Engine → ModelFormats → CBLAS/CSQLite.
// Release builds keep arithmetic and bounds checks (-O: an overflow traps, it never wraps) in every target that parses
// files or computes sizes from input. Only the numeric kernels (Engine, QuantizedKernels), whose sizes come from a
// validated model config, drop them (-Ounchecked): measured there (user CPU of the same commit built both
// ways, best of four interleaved runs) it saves 1% of a 128-token fp32 generate, 3% of a 900-token forward pass and
// 6% of a native-weights generate; elsewhere the checks cost nothing measurable.
let release: [SwiftSetting] = [.unsafeFlags(["-O", "-wmo"], .when(configuration: .release))]
let kernels: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "reptune",
    products: [
        .executable(name: "reptune", targets: ["reptune"]),
        .library(name: "ReptuneEngine", targets: ["Engine"]),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "ModelFormats", swiftSettings: release),
        // The quantized kernels need AVX2/FMA/F16C code generation; the engine calls them only when the CPU has
        // them (`CPUFeatures.hasAVX2`) and takes portable paths otherwise.
        // One inline C function: the prefetch hint Swift cannot emit (Sources/CPrefetch/include/prefetch.h).
        .target(name: "CPrefetch", path: "Sources/CPrefetch"),
        .target(name: "QuantizedKernels", dependencies: ["ModelFormats", "CPrefetch"],
                swiftSettings: kernels + [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"])]),
        .target(name: "Engine", dependencies: ["ModelFormats", "CBLAS", "QuantizedKernels"], swiftSettings: kernels),
        .target(name: "Experiments", dependencies: ["Engine", "ModelFormats", "CBLAS"], swiftSettings: release),
        .target(name: "Pipeline", dependencies: ["Experiments", "Engine", "ModelFormats", "CSQLite"],
                swiftSettings: release),
        // The command line declared: each command's option table, and the parsing, help and completion made from it.
        .target(name: "CommandLineSpec", dependencies: ["Pipeline", "Experiments", "Engine", "ModelFormats"], swiftSettings: release),
        // `reptune serve`: HTTP/1.1 on POSIX sockets, the OpenAI request/response shapes, the continuous batch.
        .target(name: "Server", dependencies: ["Pipeline", "Engine", "ModelFormats"], swiftSettings: release),
        .executableTarget(name: "reptune", dependencies: ["CommandLineSpec", "Server", "Pipeline", "Experiments", "Engine", "ModelFormats"],
                          swiftSettings: release),
        .target(name: "TestSupport", dependencies: ["Experiments", "Pipeline", "ModelFormats"], path: "Tests/TestSupport"),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "QuantizedKernels", "ModelFormats", "CBLAS", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Engine", "ModelFormats", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Experiments", "Engine", "ModelFormats", "CSQLite", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Pipeline", "Engine", "ModelFormats", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["CommandLineSpec", "ModelFormats", "Engine", "Experiments", "Pipeline", "TestSupport"]),
    ]
)
