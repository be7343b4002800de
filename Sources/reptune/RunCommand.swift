import Engine
import Foundation
import Pipeline

/// `reptune run MANIFEST --dry-run`: validates the manifest (every error at once) and prints the plan against the
/// results directory's store: each stage cached, to run or to resume, with its cells.
enum RunCommand {
    static let spec = Arguments.Spec(
        usage: "run MANIFEST --dry-run [--results DIR] [--only STAGE,...] [--force STAGE,...]",
        summary: "validate a manifest and print its plan (stages in order, cached or to run, cells); executing the stages is not wired yet",
        valued: ["results", "only", "force"], flags: ["dry-run"])

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard let path = a.positional.first else { throw CLIError("give the MANIFEST file") }
        let manifest: Manifest
        do {
            manifest = try Manifest.load(from: URL(fileURLWithPath: path),
                                         options: ManifestOptions(modelSearchDirectories: [RepositoryLocation.root]))
        } catch {
            throw CLIError(error.description, exitCode: 1)
        }
        let results = URL(fileURLWithPath: a.options["results"] ?? "runs/\(manifest.name)")
        let list = { (name: String) in a.options[name].map { $0.split(separator: ",").map(String.init) } ?? [] }
        let store = try Store(directory: results)
        let plan = try Planner.plan(manifest, options: PlanOptions(only: list("only"), force: list("force"),
                                                                    engineVersion: EngineVersion.current), store: store)
        guard a.flags.contains("dry-run") else {
            throw CLIError("""
                \(plan.description)
                executing stages is not available yet: the stage runners are being wired to the engine (issues 3–5); \
                --dry-run shows the plan
                """, exitCode: 2)
        }
        if a.flags.contains("json") {
            struct Row: Encodable { var id: String; var kind: String; var action: String; var cells: Int; var done: Int; var key: String }
            return try printJSON(plan.stages.map { Row(id: $0.id, kind: $0.spec.kind.rawValue, action: $0.action.rawValue,
                                                     cells: $0.cellsTotal, done: $0.cellsDone, key: "\($0.key.short)") })
        }
        print("results: \(results.path)")
        print(plan.description)
    }
}
