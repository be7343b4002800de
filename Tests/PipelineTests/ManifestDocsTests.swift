import Foundation
import Testing
import Pipeline
import TestSupport

/// The docs, the JSON Schema and the decoder must agree on the set of fields.
@Suite("Manifest docs and schema", .serialized)
struct ManifestDocsTests {
    static let docsDir = Fixtures.repoRoot.appendingPathComponent("docs")
    static let markdownURL = docsDir.appendingPathComponent("MANIFEST.md")
    static let schemaURL = docsDir.appendingPathComponent("manifest.schema.json")

    /// With REPTUNE_WRITE_DOCS=1 the generated files are written first (then checked like any other run).
    init() throws {
        if ProcessInfo.processInfo.environment["REPTUNE_WRITE_DOCS"] == "1" {
            try FileManager.default.createDirectory(at: Self.docsDir, withIntermediateDirectories: true)
            try Data(ManifestDocs.markdown().utf8).write(to: Self.markdownURL, options: .atomic)
            try Data(ManifestDocs.jsonSchema().utf8).write(to: Self.schemaURL, options: .atomic)
            let results = try String(contentsOf: Self.resultsURL, encoding: .utf8)
            try Data(StageOutputsDocs.updating(results).utf8).write(to: Self.resultsURL, options: .atomic)
        }
    }

    static let resultsURL = docsDir.appendingPathComponent("RESULTS.md")

    /// docs/RESULTS.md's section on what each kind stores is generated from the stage declarations.
    @Test func resultsOutputsSectionMatchesTheDeclarations() throws {
        let results = try String(contentsOf: Self.resultsURL, encoding: .utf8)
        #expect(results.contains(StageOutputsDocs.markdown()),
                "docs/RESULTS.md's stage outputs section is stale: run REPTUNE_WRITE_DOCS=1 swift test --filter ManifestDocsTests")
    }

    @Test func committedFilesMatchTheCatalog() throws {
        let md = try String(contentsOf: Self.markdownURL, encoding: .utf8)
        let schema = try String(contentsOf: Self.schemaURL, encoding: .utf8)
        #expect(md == ManifestDocs.markdown(), "docs/MANIFEST.md is stale: run REPTUNE_WRITE_DOCS=1 swift test --filter ManifestDocsTests")
        #expect(schema == ManifestDocs.jsonSchema(), "docs/manifest.schema.json is stale: run REPTUNE_WRITE_DOCS=1 swift test --filter ManifestDocsTests")
    }

    static func keys(_ v: JSONValue?) -> [String] { v?.objectValue?.map(\.key) ?? [] }

    @Test func schemaDocsAndDecoderAgreeOnFields() throws {
        let schema = try JSONParser.parse(String(contentsOf: Self.schemaURL, encoding: .utf8))
        #expect(schema["$schema"]?.stringValue == "https://json-schema.org/draft/2020-12/schema")
        let md = try String(contentsOf: Self.markdownURL, encoding: .utf8)

        #expect(Self.keys(schema["properties"]) == ManifestFields.topLevel.map(\.name))
        let defs = schema["$defs"]
        #expect(Self.keys(defs?["stage"]?["properties"]) == ManifestFields.stage.map(\.name))
        #expect(defs?["stage"]?["properties"]?["kind"]?["enum"]?.arrayValue?.compactMap(\.stringValue) == StageKind.allCases.map(\.rawValue))
        for f in ManifestFields.topLevel + ManifestFields.stage + ManifestFields.dataset + ManifestFields.split + ManifestFields.model {
            #expect(md.contains("| `\(f.name)` |"), "MANIFEST.md lacks field \(f.name)")
        }

        for kind in StageKind.allCases {
            let schemaParams = Self.keys(defs?["params_\(kind.rawValue)"]?["properties"])
            let schemaInputs = Self.keys(defs?["inputs_\(kind.rawValue)"]?["properties"])
            #expect(schemaParams == kind.spec.params.map(\.name), "schema params of \(kind)")
            #expect(schemaInputs == kind.spec.inputs.map(\.name), "schema inputs of \(kind)")
            // The kind's section of the docs lists exactly these parameters and inputs.
            let section = try #require(md.components(separatedBy: "\n### `\(kind.rawValue)`\n").dropFirst().first?
                .components(separatedBy: "\n### ").first)
            let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") }
                .map { String($0.dropFirst(3).prefix { $0 != "`" }) }
            // A record parameter's fields have a table of their own after the parameters'.
            let fields = kind.spec.params.flatMap { p -> [String] in
                var type = p.type
                if case .list(let element) = type { type = element }
                guard case .record(_, let fields) = type else { return [] }
                #expect(Self.keys(defs?["params_\(kind.rawValue)"]?["properties"]?[p.name]?["items"]?["properties"] ?? defs?["params_\(kind.rawValue)"]?["properties"]?[p.name]?["properties"])
                        == fields.map(\.name), "schema fields of \(kind).\(p.name)")
                return fields.map(\.name)
            }
            #expect(rows == schemaParams + fields + schemaInputs, "docs rows of \(kind)")

            // The decoder accepts every schema field (with a value of its type) and rejects a near miss.
            let params = schemaParams.map { name -> String in
                let p = kind.spec.param(name)!
                return "\"\(name)\": \(CanonicalJSON.encode(Self.sample(p.type)))"
            }.joined(separator: ", ")
            let inputs = schemaInputs.map { "\"\($0)\": \"src\"" }.joined(separator: ", ")
            let text = """
            {"name": "agree", "datasets": {"d": "d.csv"},
             "stages": [{"id": "src", "kind": "report", "inputs": {"from": "src2"}}, {"id": "src2", "kind": "collect_activations", "params": {"dataset": "d"}},
                        {"id": "s", "kind": "\(kind.rawValue)", "params": {\(params)}, "inputs": {\(inputs)}}]}
            """
            let unknown = Samples.errors(text).filter { $0.found.hasPrefix("unknown key") }
            #expect(unknown.isEmpty, "\(kind): \(unknown)")
            let misspelt = text.replacingOccurrences(of: "\"params\": {", with: "\"params\": {\"zzz_unknown\": 1, ")
            #expect(Samples.errors(misspelt).contains { $0.path.description == "stages[2].params.zzz_unknown" && $0.found == "unknown key \"zzz_unknown\"" })
        }
    }

    /// A value of `type` (the decoder may still object to its meaning, never to its key).
    static func sample(_ type: ParamType) -> JSONValue {
        switch type {
        case .integer(let lo, _): return .int(lo ?? 0)
        case .number(let lo, _): return .double(lo ?? 0.5)
        case .string: return "x"
        case .boolean: return true
        case .choice(let values): return .string(values[0])
        case .list(let e): return .array([sample(e)])
        case .positions: return "last"
        case .dataset: return "d"
        case .record(_, let fields):
            return .object(fields.filter { if case .required = $0.presence { return true }; return false }
                .map { JSONMember(key: $0.name, value: $0.axis == nil ? sample($0.type) : .array([sample($0.type)])) })
        }
    }

    @Test func everyParameterIsDocumentedAndSharedNamesShareShapes() {
        for spec in StageCatalog.all {
            #expect(!spec.summary.isEmpty)
            for p in spec.params { #expect(!p.doc.isEmpty, "\(spec.kind).\(p.name) has no doc") }
            for i in spec.inputs { #expect(!i.doc.isEmpty, "\(spec.kind) input \(i.name) has no doc") }
            // Rules only mention parameters and inputs the kind has.
            for r in spec.rules {
                #expect(spec.param(r.param) != nil)
                for n in r.requiresParams { #expect(spec.param(n) != nil, "\(spec.kind) rule names \(n)") }
                for n in r.requiresInputs { #expect(spec.input(n) != nil, "\(spec.kind) rule names input \(n)") }
            }
            // Defaults in the table pass the validator's own checks (decoding a minimal stage would fail otherwise).
        }
    }
}
