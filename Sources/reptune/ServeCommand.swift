import CommandLineSpec
import Engine
import Foundation
import Pipeline
import Server

/// `reptune serve [MODEL]`: the OpenAI-compatible server (library: Sources/Server). Reads the options, loads the
/// model and the results directory's vectors and tuned variants, listens until SIGINT/SIGTERM, then stops
/// gracefully (requests in flight finish).
enum ServeCommand {
    /// The options (declared in `ReptuneCommands`), in one place.
    static func settings(_ a: ParsedArguments) throws -> ReptuneServer.Settings {
        var s = ReptuneServer.Settings()
        s.host = a.string("host") ?? s.host
        s.port = a.int("port") ?? s.port
        if let key = a.string("api-key") {
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw CLIError("--api-key: expected a non-empty key without spaces")
            }
            s.apiKey = key
        }
        s.maxBatch = a.int("max-batch") ?? s.maxBatch
        s.maxTokens = a.int("max-tokens") ?? s.maxTokens
        s.maxConnections = a.int("max-connections") ?? s.maxConnections
        return s
    }

    static func run(_ a: ParsedArguments) throws {
        let settings = try settings(a)
        ShutdownSignals.block()
        let url = try ModelLocation.resolve(a.positional.first)
        let language = try LanguageModel(path: url, weights: WeightsPolicy(rawValue: a.string("weights") ?? "auto") ?? .auto)
        let library: SteeringLibrary
        do { library = try a.string("results").map { try SteeringLibrary(results: URL(fileURLWithPath: $0)) } ?? SteeringLibrary() } catch {
            throw CLIError("--results \(a.string("results") ?? ""): \(error)", exitCode: 1)
        }
        for note in library.unavailable { FileHandle.standardError.write(Data("reptune serve: not served: \(note)\n".utf8)) }
        let server = try ReptuneServer(language: language, library: library, settings: settings)
        do { try server.start() } catch { throw CLIError("\(error)", exitCode: 1) }
        let line = "reptune serve: listening on http://\(settings.host):\(server.port) — models: \(server.catalog.names.joined(separator: ", ")); "
            + "vectors: \(library.vectors.count); max batch \(settings.maxBatch)\(settings.apiKey == nil ? "" : "; API key required")\n"
        FileHandle.standardError.write(Data(line.utf8))
        let signal = ShutdownSignals.wait()
        FileHandle.standardError.write(Data("reptune serve: \(signal == SIGTERM ? "SIGTERM" : "SIGINT"): finishing requests in flight\n".utf8))
        server.stop()
        FileHandle.standardError.write(Data("reptune serve: stopped\n".utf8))
    }
}
