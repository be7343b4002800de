import Foundation
import Pipeline

/// `reptune validate MANIFEST`: every manifest error at once, or the plan (stages in order, inputs, sweep cells).
enum ValidateCommand {
    static let spec = Arguments.Spec(
        usage: "validate MANIFEST",
        summary: "check a manifest (all errors at once, with JSON paths) and print its plan: stages in order and sweep cells")

    struct PlannedStage: Encodable { var id: String; var kind: String; var inputs: [String: String]; var cells: Int }

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard let path = a.positional.first else { throw CLIError("give the MANIFEST file") }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CLIError("\(path): cannot read the file (\(error.localizedDescription))", exitCode: 1)
        }
        let manifest: Manifest
        do { manifest = try Manifest.parse(text, file: path) } catch {
            let messages = error.messages
            throw CLIError("\(path): \(messages.count) error\(messages.count == 1 ? "" : "s")\n" +
                           messages.map { "  \($0)" }.joined(separator: "\n"), exitCode: 1)
        }
        let plan = manifest.dag.order.compactMap { id -> PlannedStage? in
            guard let s = manifest.stage(id) else { return nil }
            return PlannedStage(id: id, kind: s.kind.rawValue, inputs: s.inputs, cells: max(manifest.sweepCells(id).count, 1))
        }
        if a.flags.contains("json") { return try printJSON(plan) }
        print("\(path): valid manifest \"\(manifest.name)\", \(plan.count) stages")
        for s in plan {
            let inputs = s.inputs.sorted { $0.key < $1.key }.map { "\($0.key) ← \($0.value)" }.joined(separator: ", ")
            print("  " + s.id.padding(toLength: 14, withPad: " ", startingAt: 0) + s.kind.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + "\(s.cells) cell\(s.cells == 1 ? "" : "s")" + (inputs.isEmpty ? "" : "   inputs: \(inputs)"))
        }
    }
}
