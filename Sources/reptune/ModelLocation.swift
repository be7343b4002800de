import CommandLineSpec
import Foundation
import ModelFormats

/// Where the default model lives: `$REPTUNE_MODEL`, else `models/…` under the working directory, else next to
/// the repository the executable was built in.
enum ModelLocation {
    static let defaultRelative = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    static func resolve(_ given: String?) throws -> URL {
        if let given {
            let url = URL(fileURLWithPath: given)
            do { try InputFile.check(url, what: "model", directoryAllowed: true) } catch { throw CLIError("\(error)", exitCode: 1) }
            return url
        }
        if let env = ProcessInfo.processInfo.environment["REPTUNE_MODEL"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(defaultRelative)
        if FileManager.default.fileExists(atPath: cwd.path) { return cwd }
        if let repo = RepositoryLocation.builtIn {
            let candidate = repo.appendingPathComponent(defaultRelative)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
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
        return builtIn ?? cwd
    }

    /// The repository holding the executable (`.build/<triple>/<config>/reptune`, reached through the
    /// `.build/<config>` link or not): the nearest directory above it with a `Package.swift`.
    static var builtIn: URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir.deleteLastPathComponent()
        }
        return nil
    }
}
