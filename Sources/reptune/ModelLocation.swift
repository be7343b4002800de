import Foundation

/// Where the default model lives: `$REPTUNE_MODEL`, else `models/…` under the working directory, else next to
/// the repository the executable was built in.
enum ModelLocation {
    static let defaultRelative = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    static func resolve(_ given: String?) throws -> URL {
        if let given { return URL(fileURLWithPath: given) }
        if let env = ProcessInfo.processInfo.environment["REPTUNE_MODEL"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(defaultRelative)
        if FileManager.default.fileExists(atPath: cwd.path) { return cwd }
        // .build/<config>/reptune → repository root
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let repo = exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = repo.appendingPathComponent(defaultRelative)
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        throw CLIError("no model given and the default \(defaultRelative) is missing: run `make setup` or pass a MODEL path",
                       exitCode: 1)
    }
}

/// The repository the executable belongs to (for `datasets/` and the default mirror `../shared/datasets`):
/// the working directory when it holds `datasets/`, else the one the executable was built in.
enum RepositoryLocation {
    static var root: URL {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if FileManager.default.fileExists(atPath: cwd.appendingPathComponent("datasets").path) { return cwd }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
