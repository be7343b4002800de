/// Turns a JSON document into a `Manifest`, collecting every error rather than stopping at the first.
struct ManifestDecoder {
    static let topKeys = ["$schema", "name", "model", "datasets", "defaults", "stages"]
    static let modelKeys = ["path", "name", "template"]
    static let datasetKeys = ["name", "split", "limit"]
    static let stageKeys = ["id", "kind", "params", "inputs"]
    static let stageIDExpectation = "a stage id of letters, digits, '_' and '-'"
    /// Stage ids name directories and database rows, so they are kept to a safe alphabet.
    static let stageIDPattern = "^[A-Za-z0-9_-]+$"

    static func isValidStageID(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
    }

    private var collected: [ManifestError] = []

    /// Errors in document order: by top-level section, then by stage index, otherwise as found.
    var errors: [ManifestError] {
        func rank(_ e: ManifestError) -> (Int, Int) {
            let head = e.path.prefix { $0 != "." && $0 != "[" }
            let section = ["manifest", "name", "model", "datasets", "defaults", "stages"].firstIndex(of: String(head)) ?? 0
            guard head == "stages", e.path.hasPrefix("stages[") else { return (section, -1) }
            let digits = e.path.dropFirst("stages[".count).prefix { $0.isNumber }
            return (section, Int(digits) ?? -1)
        }
        return collected.enumerated().sorted { a, b in
            let ra = rank(a.element), rb = rank(b.element)
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }
    private var seen = Set<ManifestError>()

    mutating func fail(_ path: String, _ expected: String, _ found: String, _ suggestion: String? = nil) {
        let e = ManifestError(path: path, expected: expected, found: found, suggestion: suggestion)
        if seen.insert(e).inserted { collected.append(e) }
    }

    mutating func decode(_ root: JSONValue) -> Manifest? {
        guard let members = root.objectMembers else {
            fail("manifest", "an object", Found.describe(root))
            return nil
        }
        unknownKeys(members, allowed: Self.topKeys, prefix: "", what: "a manifest key")
        let name = requiredString(root["name"], path: "name")
        let model = decodeModel(root["model"])
        let datasets = decodeDatasets(root["datasets"])
        var defaults: [String: JSONValue] = [:]
        if let d = root["defaults"] {
            if let dm = d.objectMembers {
                let names = StageParameters.allParameterNames
                for m in dm {
                    if names.contains(m.key) {
                        defaults[m.key] = m.value
                    } else {
                        fail("defaults.\(m.key)", "a parameter name of some stage kind", "unknown key \(JSONText.quoted(m.key))",
                             Suggestion.nearest(to: m.key, in: names))
                    }
                }
            } else {
                fail("defaults", "an object", Found.describe(d))
            }
        }
        let stages = decodeStages(root["stages"], datasets: Array(datasets.keys).sorted(), defaults: defaults)
        guard let name, let stages else { return nil }
        return Manifest(name: name, model: model, datasets: datasets, defaults: defaults, stages: stages)
    }

    // MARK: - Pieces

    private func join(_ prefix: String, _ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    private mutating func unknownKeys(_ members: [JSONMember], allowed: [String], prefix: String, what: String) {
        for m in members where !allowed.contains(m.key) {
            let list = allowed.filter { $0 != "$schema" }.joined(separator: ", ")
            fail(join(prefix, m.key), "\(what) (\(list))", "unknown key \(JSONText.quoted(m.key))",
                 Suggestion.nearest(to: m.key, in: allowed))
        }
    }

    private mutating func requiredString(_ value: JSONValue?, path: String) -> String? {
        guard let value else {
            fail(path, "a non-empty string", "nothing")
            return nil
        }
        guard let s = value.stringValue, !s.isEmpty else {
            fail(path, "a non-empty string", Found.describe(value))
            return nil
        }
        return s
    }

    private mutating func optionalString(_ value: JSONValue?, path: String) -> String? {
        guard let value else { return nil }
        guard let s = value.stringValue else {
            fail(path, "a string", Found.describe(value))
            return nil
        }
        return s
    }

    private mutating func decodeModel(_ value: JSONValue?) -> ModelRef {
        guard let value else { return ModelRef() }
        guard let members = value.objectMembers else {
            fail("model", "an object", Found.describe(value))
            return ModelRef()
        }
        unknownKeys(members, allowed: Self.modelKeys, prefix: "model", what: "a model key")
        let path = optionalString(value["path"], path: "model.path")
        let name = optionalString(value["name"], path: "model.name")
        let template = optionalString(value["template"], path: "model.template")
        if value["path"] != nil, value["name"] != nil {
            fail("model", #"exactly one of "path" or "name""#, "both")
        } else if value["path"] == nil, value["name"] == nil {
            fail("model", #"exactly one of "path" or "name""#, "neither")
        }
        if let path { return ModelRef(source: .path(path), template: template) }
        return ModelRef(source: .named(name ?? ModelRef.defaultName), template: template)
    }

    private mutating func decodeDatasets(_ value: JSONValue?) -> [String: DatasetRef] {
        guard let value else { return [:] }
        guard let members = value.objectMembers else {
            fail("datasets", "an object", Found.describe(value))
            return [:]
        }
        var result: [String: DatasetRef] = [:]
        for m in members {
            let path = "datasets.\(m.key)"
            guard let fields = m.value.objectMembers else {
                fail(path, "an object", Found.describe(m.value))
                continue
            }
            unknownKeys(fields, allowed: Self.datasetKeys, prefix: path, what: "a dataset key")
            let name = requiredString(m.value["name"], path: "\(path).name")
            let split = optionalString(m.value["split"], path: "\(path).split")
            var limit: Int?
            if let l = m.value["limit"] {
                if let n = l.intValue, n > 0 { limit = n } else { fail("\(path).limit", "a positive integer", Found.describe(l)) }
            }
            result[m.key] = DatasetRef(name: name ?? m.key, split: split, limit: limit)
        }
        return result
    }

    private mutating func decodeStages(_ value: JSONValue?, datasets: [String], defaults: [String: JSONValue]) -> [StageSpec]? {
        guard let value else {
            fail("stages", "a list of stages", "nothing")
            return nil
        }
        guard let items = value.arrayValue else {
            fail("stages", "a list of stages", Found.describe(value))
            return nil
        }
        if items.isEmpty { fail("stages", "at least one stage", "an empty list") }

        // First pass: ids and kinds, so inputs can be checked against every stage.
        var ids: [String?] = []
        var kinds: [StageKind?] = []
        var firstIndex: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let path = "stages[\(i)]"
            guard let members = item.objectMembers else {
                fail(path, "an object", Found.describe(item))
                ids.append(nil)
                kinds.append(nil)
                continue
            }
            unknownKeys(members, allowed: Self.stageKeys, prefix: path, what: "a stage key")
            var id = requiredString(item["id"], path: "\(path).id")
            if let s = id, !Self.isValidStageID(s) {
                fail("\(path).id", Self.stageIDExpectation, Found.describe(item["id"]))
                id = nil
            }
            if let id {
                if let first = firstIndex[id] {
                    fail("\(path).id", "a unique stage id", "\(JSONText.quoted(id)), already used by stages[\(first)]")
                } else {
                    firstIndex[id] = i
                }
            }
            ids.append(id)
            kinds.append(decodeKind(item["kind"], path: "\(path).kind"))
        }
        // Defaults no stage uses are still checked, against the first kind declaring them.
        for (name, value) in defaults.sorted(by: { $0.key < $1.key }) where !kinds.contains(where: { kind in
            kind.map { StageParameters.parameters(of: $0).contains { $0.name == name } } ?? false
        }) {
            if let spec = StageKind.allCases.lazy.compactMap({ StageParameters.parameters(of: $0).first { $0.name == name } }).first {
                check(value, spec.type, path: "defaults.\(name)", datasets: datasets)
            }
        }
        let knownIDs = ids.compactMap { $0 }
        var kindOf: [String: StageKind] = [:]
        for (id, first) in firstIndex { if let k = kinds[first] { kindOf[id] = k } }

        // Second pass: params and inputs.
        var stages: [StageSpec] = []
        for (i, item) in items.enumerated() where item.objectMembers != nil {
            let path = "stages[\(i)]"
            let params = decodeParams(item["params"], kind: kinds[i], path: "\(path).params", datasets: datasets, defaults: defaults)
            let inputs = decodeInputs(item["inputs"], kind: kinds[i], path: "\(path).inputs", ids: knownIDs, kindOf: kindOf)
            if let id = ids[i], let kind = kinds[i] {
                stages.append(StageSpec(id: id, kind: kind, params: params, inputs: inputs))
            }
        }
        reportCycles(stages, firstIndex: firstIndex)
        return stages
    }

    private mutating func decodeKind(_ value: JSONValue?, path: String) -> StageKind? {
        let names = StageKind.allCases.map(\.rawValue)
        let expected = ParameterType.enumeration(names).expectation
        guard let value else {
            fail(path, expected, "nothing")
            return nil
        }
        guard let s = value.stringValue else {
            fail(path, expected, Found.describe(value))
            return nil
        }
        guard let kind = StageKind(rawValue: s) else {
            fail(path, expected, Found.describe(value), Suggestion.nearest(to: s, in: names))
            return nil
        }
        return kind
    }

    private mutating func decodeParams(_ value: JSONValue?, kind: StageKind?, path: String, datasets: [String],
                                       defaults: [String: JSONValue]) -> [String: JSONValue]
    {
        var params: [String: JSONValue] = [:]
        var members: [JSONMember] = []
        if let value {
            if let m = value.objectMembers { members = m } else { fail(path, "an object", Found.describe(value)) }
        }
        guard let kind else { return [:] }
        let specs = StageParameters.parameters(of: kind)
        for m in members {
            guard let spec = specs.first(where: { $0.name == m.key }) else {
                fail("\(path).\(m.key)", "a parameter of \(kind.rawValue)", "unknown key \(JSONText.quoted(m.key))",
                     Suggestion.nearest(to: m.key, in: specs.map(\.name)))
                continue
            }
            check(m.value, spec.type, path: "\(path).\(m.key)", datasets: datasets)
            params[m.key] = m.value
        }
        for spec in specs where params[spec.name] == nil {
            if let d = defaults[spec.name] {
                check(d, spec.type, path: "defaults.\(spec.name)", datasets: datasets)
            } else if spec.required {
                fail("\(path).\(spec.name)", "\(spec.type.expectation) (required by \(kind.rawValue))", "nothing")
            }
        }
        return params
    }

    private mutating func check(_ v: JSONValue, _ type: ParameterType, path: String, datasets: [String]) {
        switch type {
        case .int:
            if v.intValue == nil { fail(path, type.expectation, Found.describe(v)) }
        case .number:
            if v.numberValue == nil { fail(path, type.expectation, Found.describe(v)) }
        case .string:
            if v.stringValue == nil { fail(path, type.expectation, Found.describe(v)) }
        case .bool:
            if case .bool = v {} else { fail(path, type.expectation, Found.describe(v)) }
        case .object:
            if v.objectMembers == nil { fail(path, type.expectation, Found.describe(v)) }
        case .intList, .stringList:
            guard let items = v.arrayValue else { return fail(path, type.expectation, Found.describe(v)) }
            for (i, item) in items.enumerated() {
                if type == .intList, item.intValue == nil { fail("\(path)[\(i)]", "an integer", Found.describe(item)) }
                if type == .stringList, item.stringValue == nil { fail("\(path)[\(i)]", "a string", Found.describe(item)) }
            }
        case .grid, .intGrid:
            if case .failure(.invalid(let errs)) = Grid.expand(v, integer: type == .intGrid, path: path) {
                for e in errs { fail(e.path, e.expected, e.found, e.suggestion) }
            }
        case .positions:
            if let s = v.stringValue {
                if s != "last" { fail(path, type.expectation, Found.describe(v), Suggestion.nearest(to: s, in: ["last"])) }
            } else if let items = v.arrayValue {
                for (i, item) in items.enumerated() where item.intValue == nil {
                    fail("\(path)[\(i)]", "an integer", Found.describe(item))
                }
            } else {
                fail(path, type.expectation, Found.describe(v))
            }
        case .enumeration(let values):
            guard let s = v.stringValue, values.contains(s) else {
                return fail(path, type.expectation, Found.describe(v), v.stringValue.flatMap { Suggestion.nearest(to: $0, in: values) })
            }
        case .dataset:
            guard let s = v.stringValue else { return fail(path, type.expectation, Found.describe(v)) }
            if !datasets.contains(s) { fail(path, type.expectation, Found.describe(v), Suggestion.nearest(to: s, in: datasets)) }
        }
    }

    private mutating func decodeInputs(_ value: JSONValue?, kind: StageKind?, path: String, ids: [String],
                                       kindOf: [String: StageKind]) -> [String: String]
    {
        var inputs: [String: String] = [:]
        var members: [JSONMember] = []
        if let value {
            if let m = value.objectMembers { members = m } else { fail(path, "an object", Found.describe(value)) }
        }
        let roles = kind.map(StageParameters.inputRoles(of:)) ?? []
        let open = kind.map(StageParameters.openInputKinds.contains) ?? true
        for m in members {
            let rolePath = "\(path).\(m.key)"
            let spec = roles.first { $0.role == m.key }
            if spec == nil, !open, let kind {
                let list = roles.map(\.role).joined(separator: ", ")
                fail(rolePath, "an input role of \(kind.rawValue) (\(list.isEmpty ? "none" : list))", "unknown key \(JSONText.quoted(m.key))",
                     Suggestion.nearest(to: m.key, in: roles.map(\.role)))
                continue
            }
            guard let target = m.value.stringValue else {
                fail(rolePath, "a stage id", Found.describe(m.value))
                continue
            }
            guard ids.contains(target) else {
                fail(rolePath, "the id of a stage in this manifest", Found.describe(m.value), Suggestion.nearest(to: target, in: ids))
                continue
            }
            if let spec, let targetKind = kindOf[target], !spec.from.contains(targetKind) {
                let want = spec.from.map(\.rawValue).joined(separator: " or ")
                fail(rolePath, "a \(want) stage", "\(JSONText.quoted(target)) of kind \(targetKind.rawValue)")
            }
            inputs[m.key] = target
        }
        for spec in roles where spec.required && value?[spec.role] == nil {
            let want = spec.from.map(\.rawValue).joined(separator: " or ")
            fail("\(path).\(spec.role)", "the id of a \(want) stage (required by \(kind!.rawValue))", "nothing")
        }
        return inputs
    }

    private mutating func reportCycles(_ stages: [StageSpec], firstIndex: [String: Int]) {
        var edges: [String: [String]] = [:]
        var order: [String] = []
        for s in stages where edges[s.id] == nil {
            order.append(s.id)
            edges[s.id] = s.inputs.keys.sorted().compactMap { s.inputs[$0] }
        }
        var state: [String: Int] = [:]  // 1 = on the stack, 2 = done
        var stack: [String] = []
        var reported = Set<[String]>()
        var cycles: [[String]] = []

        func visit(_ node: String) {
            state[node] = 1
            stack.append(node)
            for next in edges[node] ?? [] where edges[next] != nil {
                if state[next] == 1, let start = stack.lastIndex(of: next) {
                    var cycle = Array(stack[start...])
                    let rotate = cycle.indices.min { (firstIndex[cycle[$0]] ?? 0) < (firstIndex[cycle[$1]] ?? 0) } ?? 0
                    cycle = Array(cycle[rotate...] + cycle[..<rotate])
                    if reported.insert(cycle).inserted { cycles.append(cycle) }
                } else if state[next] == nil {
                    visit(next)
                }
            }
            stack.removeLast()
            state[node] = 2
        }
        for id in order where state[id] == nil { visit(id) }
        for cycle in cycles {
            let text = (cycle + [cycle[0]]).joined(separator: " → ")
            fail("stages[\(firstIndex[cycle[0]] ?? 0)].inputs", "inputs without cycles", "the cycle \(text)")
        }
    }
}
