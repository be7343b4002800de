import Foundation
import Pipeline
import Testing

/// The repository's docs directory, found from this file's location.
private let docsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("docs")

/// Compares a generated document with its committed copy; `UPDATE_MANIFEST_DOCS=1` rewrites the copy instead.
private func checkCommitted(_ name: String, _ generated: String) throws {
    let url = docsDirectory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["UPDATE_MANIFEST_DOCS"] == "1" {
        try generated.write(to: url, atomically: true, encoding: .utf8)
    }
    let committed = try String(contentsOf: url, encoding: .utf8)
    #expect(committed == generated, "docs/\(name) is stale: run UPDATE_MANIFEST_DOCS=1 swift test --filter ManifestDocsTests")
}

@Test func committedMarkdownMatchesGenerated() throws {
    try checkCommitted("MANIFEST.md", ManifestDocs.markdown())
}

@Test func committedSchemaMatchesGenerated() throws {
    try checkCommitted("manifest.schema.json", ManifestDocs.jsonSchema())
}

@Test func everyParameterAppearsInDocsAndSchema() throws {
    let markdown = ManifestDocs.markdown()
    let schema = try JSONParser(file: "manifest.schema.json").parse(ManifestDocs.jsonSchema())
    #expect(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema")
    for kind in StageKind.allCases {
        let section = try #require(markdown.components(separatedBy: "\n## `\(kind.rawValue)`\n").last)
        let params = try #require(schema["$defs"]?["params_\(kind.rawValue)"])
        #expect(params["additionalProperties"] == false)
        let names = params["properties"]?.objectMembers?.map(\.key)
        #expect(names == StageParameters.parameters(of: kind).map(\.name), "\(kind)")
        for p in StageParameters.parameters(of: kind) {
            #expect(section.contains("| `\(p.name)` |"), "\(kind).\(p.name) missing from MANIFEST.md")
            #expect(params["properties"]?[p.name]?["default"] == p.defaultValue)
            #expect(schema["properties"]?["defaults"]?["properties"]?[p.name] != nil)
        }
        for r in StageParameters.inputRoles(of: kind) {
            #expect(schema["$defs"]?["inputs_\(kind.rawValue)"]?["properties"]?[r.role] != nil)
            #expect(section.contains("| `\(r.role)` |"))
        }
    }
}

/// Every object schema that lists properties forbids others; `if`/`then` branches only refine the closed stage object.
@Test func schemaClosesEveryObject() throws {
    let schema = try JSONParser().parse(ManifestDocs.jsonSchema())
    var open: [String] = []
    func walk(_ v: JSONValue, _ path: String) {
        switch v {
        case .object(let members):
            let branch = path.hasSuffix("/if") || path.hasSuffix("/then")
            if v["properties"] != nil, v["additionalProperties"] != false, !branch { open.append(path) }
            for m in members { walk(m.value, path + "/" + m.key) }
        case .array(let items):
            for (i, item) in items.enumerated() { walk(item, path + "/\(i)") }
        default: break
        }
    }
    walk(schema, "#")
    #expect(open == [])
}

@Test func schemaHasOneBranchPerStageKind() throws {
    let schema = try JSONParser().parse(ManifestDocs.jsonSchema())
    let branches = try #require(schema["$defs"]?["stage"]?["allOf"]?.arrayValue)
    #expect(branches.count == StageKind.allCases.count)
    #expect(branches.compactMap { $0["if"]?["properties"]?["kind"]?["const"]?.stringValue } == StageKind.allCases.map(\.rawValue))
}
