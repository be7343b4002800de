import Experiments
import Foundation

/// `reptune datasets`: every dataset descriptor with the status of its files in the local mirror.
enum DatasetsCommand {
    static let spec = Arguments.Spec(
        usage: "datasets [--datasets DIR] [--quick]",
        summary: "list the datasets with their status in the local mirror (verified, present, missing, mismatch)",
        valued: ["datasets"], flags: ["quick"])

    struct Row: Encodable { var name: String; var status: String; var files: [String]; var licence: String; var source: String }

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        let repo = RepositoryLocation.root
        let mirror = a.options["datasets"].map { DatasetMirror(root: URL(fileURLWithPath: $0)) } ?? DatasetMirror.beside(repository: repo)
        let catalog = try DatasetCatalog.load(directory: DatasetCatalog.descriptorDirectory(repository: repo))
        let rows = catalog.statuses(in: mirror, verify: !a.flags.contains("quick")).map { s in
            Row(name: s.descriptor.name, status: "\(s.overall)", files: s.files.map { $0.url.path },
                licence: s.descriptor.licence, source: s.descriptor.sourceURL)
        }
        if a.flags.contains("json") { return try printJSON(rows) }
        print("mirror: \(mirror.root.path)")
        for r in rows {
            print(r.name.padding(toLength: 20, withPad: " ", startingAt: 0) + r.status.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + r.files.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", "))
        }
    }
}
