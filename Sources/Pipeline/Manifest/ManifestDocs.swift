/// Generates `docs/MANIFEST.md` and `docs/manifest.schema.json` from `ManifestFields` and `StageCatalog`, the
/// same tables the validator reads. A test keeps the committed files equal to what this produces.
public enum ManifestDocs {
    // MARK: JSON Schema (draft 2020-12)

    public static func jsonSchema() -> String {
        CanonicalJSON.pretty(schemaValue()) + "\n"
    }

    static func obj(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(pairs.map { JSONMember(key: $0.0, value: $0.1) })
    }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    static func described(_ schema: JSONValue, _ doc: String) -> JSONValue {
        guard var members = schema.objectValue else { return schema }
        members.insert(JSONMember(key: "description", value: .string(doc)), at: 0)
        return .object(members)
    }

    /// The schema of one value of `type`.
    static func schema(of type: ParamType) -> JSONValue {
        func bounded(_ name: String, _ lo: Double?, _ hi: Double?) -> JSONValue {
            var pairs: [(String, JSONValue)] = [("type", .string(name))]
            if let lo { pairs.append(("minimum", .double(lo))) }
            if let hi { pairs.append(("maximum", .double(hi))) }
            return obj(pairs)
        }
        switch type {
        case .integer(let lo, let hi): return bounded("integer", lo.map(Double.init), hi.map(Double.init))
        case .number(let lo, let hi): return bounded("number", lo, hi)
        case .string: return obj([("type", "string")])
        case .boolean: return obj([("type", "boolean")])
        case .choice(let values): return obj([("enum", strings(values))])
        case .list(let element):
            let array = obj([("type", "array"), ("items", schema(of: element)), ("minItems", .int(1))])
            if element.isInteger { return obj([("anyOf", .array([array, obj([("$ref", "#/$defs/range")])]))]) }
            return array
        case .positions:
            return obj([("anyOf", .array([
                obj([("const", "last")]),
                obj([("type", "integer"), ("minimum", .int(-ManifestFields.maxTokens)), ("maximum", .int(0))]),
                obj([("type", "array"), ("minItems", .int(1)), ("items", obj([("anyOf", .array([
                    obj([("const", "last")]), obj([("type", "integer"), ("minimum", .int(-ManifestFields.maxTokens)), ("maximum", .int(0))]),
                ]))]))]),
            ]))])
        case .dataset:
            return obj([("type", "string"), ("pattern", "^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$")])
        case .record(_, let fields):
            return obj([("type", "object"), ("additionalProperties", .bool(false)),
                        ("properties", obj(fields.map { ($0.name, schema(of: $0)) })),
                        ("required", strings(fields.filter { if case .required = $0.presence { return true }; return false }.map(\.name)))])
        }
    }

    static func schema(of param: ParamSpec) -> JSONValue {
        var s = schema(of: param.type)
        if param.axis != nil {
            let one = s
            s = obj([("anyOf", .array([one, obj([("type", "array"), ("items", one), ("minItems", .int(1))]),
                                       obj([("$ref", "#/$defs/range")])]))])
        }
        var members = described(s, param.doc).objectValue ?? []
        if let d = param.presence.defaultValue { members.append(JSONMember(key: "default", value: d)) }
        return .object(members)
    }

    static func schemaValue() -> JSONValue {
        let idPattern: JSONValue = .string("^[A-Za-z0-9_.-]+$")
        var defs: [(String, JSONValue)] = []
        defs.append(("range", described(obj([
            ("type", "object"), ("additionalProperties", .bool(false)), ("required", strings(["range"])),
            ("properties", obj([("range", obj([("type", "array"), ("items", obj([("type", "number")])),
                                                ("minItems", .int(2)), ("maxItems", .int(3))]))])),
        ]), "Inclusive grid {\"range\": [lo, hi, step]}; decimal steps are exact. [lo, hi] means step 1.")))
        let fieldDoc = { (fields: [FieldDoc], name: String) in fields.first { $0.name == name }?.doc ?? "" }
        defs.append(("model", described(obj([("anyOf", .array([
            obj([("type", "string")]),
            obj([("type", "object"), ("additionalProperties", .bool(false)),
                 ("properties", obj(ManifestFields.model.map { f in
                     f.name == "weights"
                         ? (f.name, described(obj([("enum", strings(ManifestFields.weightsPolicies))]), f.doc))
                         : (f.name, described(obj([("type", "string")]), f.doc))
                 }))]),
        ]))]), fieldDoc(ManifestFields.topLevel, "model"))))
        defs.append(("split", obj([
            ("type", "object"), ("additionalProperties", .bool(false)), ("minProperties", .int(1)), ("maxProperties", .int(1)),
            ("properties", obj([
                ("rows", described(obj([("type", "array"), ("items", obj([("type", "integer"), ("minimum", .int(0))])),
                                        ("minItems", .int(2)), ("maxItems", .int(2))]), fieldDoc(ManifestFields.split, "rows"))),
                ("indices", described(obj([("type", "array"), ("items", obj([("type", "integer"), ("minimum", .int(0))])),
                                           ("minItems", .int(1))]), fieldDoc(ManifestFields.split, "indices"))),
                ("file", described(obj([("type", "string")]), fieldDoc(ManifestFields.split, "file"))),
            ])),
        ])))
        defs.append(("dataset", obj([("anyOf", .array([
            obj([("type", "string"), ("description", "Shorthand for {\"dataset\": …} when the string is a dataset name, else for {\"path\": …}.")]),
            obj([("type", "object"), ("additionalProperties", .bool(false)),
                 ("oneOf", .array([obj([("required", strings(["dataset"]))]), obj([("required", strings(["path"]))])])),
                 ("properties", obj([
                    ("dataset", described(obj([("type", "string")]), fieldDoc(ManifestFields.dataset, "dataset"))),
                    ("file", described(obj([("type", "string")]), fieldDoc(ManifestFields.dataset, "file"))),
                    ("path", described(obj([("type", "string")]), fieldDoc(ManifestFields.dataset, "path"))),
                    ("format", described(obj([("enum", strings(ManifestFields.datasetFormats))]), fieldDoc(ManifestFields.dataset, "format"))),
                    ("splits", described(obj([("type", "object"), ("propertyNames", obj([("pattern", idPattern)])),
                                              ("additionalProperties", obj([("$ref", "#/$defs/split")]))]),
                                         fieldDoc(ManifestFields.dataset, "splits"))),
                 ]))]),
        ]))])))
        for spec in StageCatalog.all {
            defs.append(("params_\(spec.kind.rawValue)", obj([
                ("type", "object"), ("additionalProperties", .bool(false)),
                ("properties", obj(spec.params.map { ($0.name, schema(of: $0)) })),
                ("required", strings(spec.params.filter { if case .required = $0.presence { return true }; return false }.map(\.name))),
            ])))
            defs.append(("inputs_\(spec.kind.rawValue)", obj([
                ("type", "object"), ("additionalProperties", .bool(false)),
                ("properties", obj(spec.inputs.map { slot -> (String, JSONValue) in
                    let one = obj([("type", "string"), ("pattern", idPattern)])
                    let s = slot.many ? obj([("anyOf", .array([one, obj([("type", "array"), ("items", one), ("minItems", .int(1))])]))]) : one
                    return (slot.name, described(s, slot.doc))
                })),
                ("required", strings(spec.inputs.filter(\.required).map(\.name))),
            ])))
        }
        let stageFields = ManifestFields.stage
        defs.append(("stage", obj([
            ("type", "object"), ("additionalProperties", .bool(false)), ("required", strings(stageFields.filter(\.required).map(\.name))),
            ("properties", obj([
                ("id", described(obj([("type", "string"), ("pattern", idPattern)]), fieldDoc(stageFields, "id"))),
                ("kind", described(obj([("enum", strings(StageKind.allCases.map(\.rawValue)))]), fieldDoc(stageFields, "kind"))),
                ("description", described(obj([("type", "string")]), fieldDoc(stageFields, "description"))),
                ("params", described(obj([("type", "object")]), fieldDoc(stageFields, "params"))),
                ("inputs", described(obj([("type", "object")]), fieldDoc(stageFields, "inputs"))),
            ])),
            ("allOf", .array(StageCatalog.all.map { spec in
                obj([
                    ("if", obj([("properties", obj([("kind", obj([("const", .string(spec.kind.rawValue))]))]))])),
                    ("then", obj([("properties", obj([
                        ("params", obj([("$ref", .string("#/$defs/params_\(spec.kind.rawValue)"))])),
                        ("inputs", obj([("$ref", .string("#/$defs/inputs_\(spec.kind.rawValue)"))])),
                    ]))])),
                ])
            })),
        ])))

        // defaults: every parameter name, accepting any of the shapes it has in some kind.
        var defaultProps: [(String, JSONValue)] = []
        for name in StageCatalog.allParamNames {
            var shapes: [JSONValue] = []
            var kinds: [String] = []
            for spec in StageCatalog.all {
                guard let p = spec.param(name) else { continue }
                kinds.append(spec.kind.rawValue)
                var s = schema(of: p)
                if var ms = s.objectValue {
                    ms.removeAll { $0.key == "description" || $0.key == "default" }
                    s = .object(ms)
                }
                if !shapes.contains(s) { shapes.append(s) }
            }
            let shape = shapes.count == 1 ? shapes[0] : obj([("anyOf", .array(shapes))])
            defaultProps.append((name, described(shape, "Default for `\(name)` of: \(kinds.joined(separator: ", ")).")))
        }

        let top = ManifestFields.topLevel
        return obj([
            ("$schema", "https://json-schema.org/draft/2020-12/schema"),
            ("$id", "https://reptune.invalid/manifest.schema.json"),
            ("title", "reptune experiment manifest"),
            ("description", "Generated from reptune's stage catalog (Sources/Pipeline/Manifest); see docs/MANIFEST.md."),
            ("type", "object"),
            ("additionalProperties", .bool(false)),
            ("required", strings(top.filter(\.required).map(\.name))),
            ("properties", obj([
                ("$schema", described(obj([("type", "string")]), fieldDoc(top, "$schema"))),
                ("name", described(obj([("type", "string"), ("pattern", idPattern)]), fieldDoc(top, "name"))),
                ("description", described(obj([("type", "string")]), fieldDoc(top, "description"))),
                ("model", obj([("$ref", "#/$defs/model")])),
                ("datasets", described(obj([("type", "object"), ("propertyNames", obj([("pattern", idPattern)])),
                                            ("additionalProperties", obj([("$ref", "#/$defs/dataset")]))]), fieldDoc(top, "datasets"))),
                ("defaults", described(obj([("type", "object"), ("additionalProperties", .bool(false)),
                                            ("properties", obj(defaultProps))]), fieldDoc(top, "defaults"))),
                ("stages", described(obj([("type", "array"), ("minItems", .int(1)), ("items", obj([("$ref", "#/$defs/stage")]))]),
                                     fieldDoc(top, "stages"))),
                ("executor", described(obj([("type", "object"), ("additionalProperties", .bool(false)), ("properties", obj([
                    ("slurm", obj([("type", "object"), ("additionalProperties", .bool(false)), ("properties", obj(ManifestFields.slurm.map { f in
                        switch f.name {
                        case "cpus_per_task": return (f.name, described(obj([("type", "integer"), ("minimum", .int(1)), ("maximum", .int(4096))]), f.doc))
                        case "extra": return (f.name, described(obj([("type", "array"), ("items", obj([("type", "string"), ("minLength", .int(1))]))]), f.doc))
                        default: return (f.name, described(obj([("type", "string"), ("pattern", "^\\S+$")]), f.doc))
                        }
                    }))])),
                ]))]), fieldDoc(top, "executor"))),
            ])),
            ("$defs", obj(defs)),
        ])
    }

    // MARK: Markdown

    public static func markdown() -> String {
        var md = """
        # Manifest reference

        <!-- Generated from Sources/Pipeline/Manifest/StageCatalog.swift and ManifestFields.swift by
             `ManifestDocs.markdown()`; edit those tables, then regenerate with
             `REPTUNE_WRITE_DOCS=1 swift test --filter ManifestDocsTests`. -->

        A manifest is a JSON file declaring an experiment once: the model, the datasets, and stages whose
        `inputs` name other stages. `reptune run MANIFEST` validates it completely before running anything (every
        error names its JSON path, line and column, what was expected and what was found), then runs the stages in
        dependency order, caching each stage under a key made of its kind, resolved parameters, the keys of its
        inputs, the model's and datasets' sha256 and the engine version. Editors can check manifests against
        [`manifest.schema.json`](manifest.schema.json) (JSON Schema draft 2020-12).

        Relative paths are resolved against the manifest's directory.

        """
        func table(_ fields: [FieldDoc]) -> String {
            "| key | type | required | meaning |\n|---|---|---|---|\n"
                + fields.map { "| `\($0.name)` | \($0.type) | \($0.required ? "yes" : "no") | \($0.doc) |" }.joined(separator: "\n") + "\n"
        }
        md += "\n## Top level\n\n" + table(ManifestFields.topLevel)
        md += "\n## `model` object\n\nNamed models: "
            + ModelCatalog.named.keys.sorted().map { "`\($0)` (`\(ModelCatalog.named[$0]!)`)" }.joined(separator: ", ")
            + ". A named model is looked up under the manifest's directory, its parents, then the working directory.\n\n"
            + table(ManifestFields.model)
        md += "\n## Datasets\n\n`datasets` maps a name to a dataset object, or to a string as shorthand: a dataset name when it is "
            + "one, else a path. A named dataset (`datasets/<name>.json` in the repository: `reptune datasets` lists them) "
            + "is read from the mirror: `--datasets DIR`, else `$REPTUNE_DATA`, else `../shared/datasets` beside the "
            + "repository, else `~/.cache/reptune/datasets`; `reptune datasets fetch MANIFEST` copies or downloads what "
            + "a manifest names. Old path spellings keep working.\n\n" + table(ManifestFields.dataset)
        md += "\n### Split object\n\nExactly one of:\n\n" + table(ManifestFields.split)
        md += "\n## `executor.slurm` object\n\nHow `reptune run MANIFEST --executor slurm` submits the units (`--slurm-partition`, "
            + "`--slurm-time`, `--slurm-mem`, `--slurm-cpus`, `--slurm-account`, `--slurm-arg` override it); every key is optional. "
            + "Other executors ignore it, and it is in no cache key.\n\n" + table(ManifestFields.slurm)
        md += """

        ## Defaults

        `defaults` maps a parameter name to a value used by every stage whose kind has that parameter and does not
        set it. Precedence: the stage's `params`, then `defaults`, then the kind's own default (tables below).

        ## Grids and sweep cells

        A parameter marked *grid* accepts one value, an array, or `{"range": [lo, hi, step]}` (inclusive of `hi`
        when the steps land on it; `[lo, hi]` means step 1 for integers; decimal steps are exact, so
        `{"range": [0, 1, 0.1]}` gives exactly 0, 0.1, …, 1). A stage's sweep cells are the product of its grids, in
        table order (first grid outermost); each cell is computed and committed on its own, so an interrupted sweep
        resumes where it stopped. A stage without grids has one cell. At most \(ManifestFields.maxRangeValues) values
        per range and \(ManifestFields.maxCells) cells per stage.

        Positions are offsets counted back from the last prompt token: `"last"` is 0, `-7` is seven tokens before it.

        ## Checks against the model and the data

        Every number has a declared range (tables below). Once the manifest's files are known, `reptune run` (and
        `--dry-run`) also checks, before anything runs and with the JSON path of the value at fault: block indices
        against the model's block count, token budgets and windows against its context length, and PCA components
        against its residual width (read from the model's header, without loading its weights); a `vectors`
        stage's `position` against the positions its input collected; steered layers against the layers the
        vector input has; `tuned_cell` against the tune stage's cells; `stride` against `window`; a vector file a
        stage imports against the model's depth and width; and each split's rows against the rows its dataset has.
        Models and datasets must be regular files or directories (a device such as `/dev/zero` is refused).

        ## Stages

        | key | type | required | meaning |
        |---|---|---|---|

        """
        md += ManifestFields.stage.map { "| `\($0.name)` | \($0.type) | \($0.required ? "yes" : "no") | \($0.doc) |" }.joined(separator: "\n") + "\n"
        for spec in StageCatalog.all {
            md += "\n### `\(spec.kind.rawValue)`\n\n\(spec.summary)\n\n"
            if spec.params.isEmpty {
                md += "No parameters.\n"
            } else {
                func table(_ params: [ParamSpec], heading: String) -> String {
                    var md = "| \(heading) | type | default | meaning |\n|---|---|---|---|\n"
                    for p in params {
                        var type = p.axis.map { "grid of \(p.type.expected) (cell axis `\($0)`)" } ?? p.type.expected
                        if let limit = p.modelLimit { type += "; \(limit.doc)" }
                        let def: String
                        switch p.presence {
                        case .required: def = "**required**"
                        case .optional: def = "—"
                        case .defaulted(let v): def = "`\(CanonicalJSON.encode(v))`"
                        }
                        md += "| `\(p.name)` | \(type) | \(def) | \(p.doc) |\n"
                    }
                    return md
                }
                md += table(spec.params, heading: "parameter")
                for p in spec.params {
                    var type = p.type
                    if case .list(let element) = type { type = element }
                    guard case .record(let name, let fields) = type else { continue }
                    md += "\nFields of a \(name) object (`\(p.name)`):\n\n" + table(fields, heading: "field")
                }
            }
            if !spec.inputs.isEmpty {
                md += "\n| input | from kinds | required | meaning |\n|---|---|---|---|\n"
                for i in spec.inputs {
                    let from = i.accepts.isEmpty ? "any" : i.accepts.map { "`\($0.rawValue)`" }.joined(separator: ", ")
                    md += "| `\(i.name)`\(i.many ? " (one or more)" : "") | \(from) | \(i.required ? "yes" : "no") | \(i.doc) |\n"
                }
            }
            if !spec.rules.isEmpty {
                md += "\n" + spec.rules.map { "- \($0.doc)" }.joined(separator: "\n") + "\n"
            }
            if case .perAxisValue(let flag, let axis, let marker) = spec.extraCells {
                md += "\nWhen `\(flag)` is true, one extra cell per `\(axis)` with coordinate `\"\(marker)\": true`.\n"
            }
            if case .single(let flag, let marker) = spec.extraCells {
                md += "\nWhen `\(flag)` is true, one extra cell with the coordinate `\"\(marker)\": true` alone.\n"
            }
        }
        return md
    }
}
