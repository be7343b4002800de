// swift-tools-version:6.0
import PackageDescription

// reptune: activation steering and representation tuning on a built-in transformer engine.
// Layers (imports point down only): reptune CLI → Pipeline → Experiments → Engine → ModelFormats → CBLAS/CSQLite.
let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

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
                swiftSettings: release + [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"])]),
        .target(name: "Engine", dependencies: ["ModelFormats", "CBLAS", "QuantizedKernels"], swiftSettings: release),
        .target(name: "Experiments", dependencies: ["Engine", "ModelFormats", "CBLAS"], swiftSettings: release),
        .target(name: "Pipeline", dependencies: ["Experiments", "Engine", "ModelFormats", "CSQLite"],
                swiftSettings: release),
        .executableTarget(name: "reptune", dependencies: ["Pipeline", "Experiments", "Engine", "ModelFormats"],
                          swiftSettings: release),
        .target(name: "TestSupport", dependencies: ["Experiments", "Pipeline", "ModelFormats"], path: "Tests/TestSupport"),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "QuantizedKernels", "ModelFormats", "CBLAS", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Engine", "ModelFormats", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Experiments", "Engine", "ModelFormats", "CSQLite", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["ModelFormats", "Engine", "Experiments", "Pipeline", "TestSupport"]),
    ]
)
