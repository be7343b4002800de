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
        let mirror = a.options["datasets"].map { URL(fileURLWithPath: $0) }
            ?? repo.deletingLastPathComponent().appendingPathComponent("shared/datasets")
        let catalog = try DatasetCatalog(descriptorDirectory: repo.appendingPathComponent("datasets"), mirror: mirror)
        let rows = catalog.descriptors.map { d in
            Row(name: d.name, status: catalog.status(of: d, hash: !a.flags.contains("quick")).rawValue,
                files: d.files.map(\.path), licence: d.licence, source: d.sourceURL)
        }
        if a.flags.contains("json") { return try printJSON(rows) }
        print("mirror: \(mirror.path)")
        for r in rows {
            print(r.name.padding(toLength: 20, withPad: " ", startingAt: 0) + r.status.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + r.files.joined(separator: ", "))
        }
    }
}
