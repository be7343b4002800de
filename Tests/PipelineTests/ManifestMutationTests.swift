import Pipeline
import Testing
import TestSupport


/// Every path into a JSON tree (object keys and array indices).
enum Step: Equatable { case key(String), index(Int) }

func allPaths(_ v: JSONValue, _ prefix: [Step] = []) -> [[Step]] {
    var out = [prefix]
    switch v {
    case .array(let items): for (i, item) in items.enumerated() { out += allPaths(item, prefix + [.index(i)]) }
    case .object(let members): for m in members { out += allPaths(m.value, prefix + [.key(m.key)]) }
    default: break
    }
    return out
}

func modify(_ v: JSONValue, at path: ArraySlice<Step>, _ f: (JSONValue?) -> JSONValue?) -> JSONValue? {
    guard let step = path.first else { return f(v) }
    switch (v, step) {
    case (.array(var items), .index(let i)) where i < items.count:
        if let new = modify(items[i], at: path.dropFirst(), f) { items[i] = new } else { items.remove(at: i) }
        return .array(items)
    case (.object(var members), .key(let k)):
        guard let i = members.firstIndex(where: { $0.key == k }) else { return v }
        if let new = modify(members[i].value, at: path.dropFirst(), f) { members[i].value = new } else { members.remove(at: i) }
        return .object(members)
    default:
        return v
    }
}

func mutate(_ doc: JSONValue, _ rng: inout SplitMix) -> String {
    let paths = allPaths(doc)
    let target = paths.randomElement(using: &rng)!
    let replacements: [JSONValue] = [nil, true, 7, -3.5, "x", "", [], [1, "a"], [:], ["range": [0, 1, 0]], ["range": [1e9, -1e9, 1]]]
    switch Int.random(in: 0..<5, using: &rng) {
    case 0:  // delete a key or element
        return JSONText.pretty(modify(doc, at: target[...]) { _ in nil } ?? .null)
    case 1:  // change a value's type
        let r = replacements.randomElement(using: &rng)!
        return JSONText.pretty(modify(doc, at: target[...]) { _ in r } ?? .null)
    case 2:  // insert a garbage key into an object
        let garbage = ["zzz", "layer", "param", "kind", "id", "stagess", ""].randomElement(using: &rng)!
        let r = replacements.randomElement(using: &rng)!
        return JSONText.pretty(modify(doc, at: target[...]) { v in
            guard case .object(var m) = v, !m.contains(where: { $0.key == garbage }) else { return v }
            m.insert(JSONMember(garbage, r), at: Int.random(in: 0...m.count, using: &rng))
            return .object(m)
        } ?? .null)
    case 3:  // truncate the text at a random byte
        let bytes = Array(JSONText.pretty(doc).utf8)
        return String(decoding: bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)), as: UTF8.self)
    default:  // duplicate a stage
        return JSONText.pretty(modify(doc, at: [.key("stages")]) { v in
            guard case .array(let stages) = v, let s = stages.randomElement(using: &rng) else { return v }
            return .array(stages + [s])
        } ?? .null)
    }
}

@Test func randomMutationsNeverCrash() throws {
    var doc = try JSONParser().parse(validManifestText)
    var rng = SplitMix(state: 2026)
    var outcomes = (valid: 0, invalid: 0)
    for round in 0..<500 {
        let text = mutate(doc, &rng)
        do {
            let m = try Manifest.parse(text)
            _ = m.dag.order
            for s in m.stages { _ = m.sweepCells(s.id) }
            outcomes.valid += 1
        } catch {
            #expect(!error.messages.isEmpty)
            #expect(error.messages.allSatisfy { !$0.isEmpty })
            outcomes.invalid += 1
        }
        // Compound mutations: every tenth round keeps mutating the previous mutant when it still parses as JSON.
        if round % 10 == 9, let next = try? JSONParser().parse(text) { doc = next }
    }
    #expect(outcomes.valid + outcomes.invalid == 500)
    #expect(outcomes.invalid > 100)
}
