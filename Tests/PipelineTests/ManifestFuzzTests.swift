import Foundation
import Testing
import Pipeline

/// Property: whatever is done to a valid manifest, decoding returns a manifest or a non-empty list of errors,
/// each with a path and a message — it never traps or hangs.
@Suite("Manifest decoder fuzzing")
struct ManifestFuzzTests {
    /// SplitMix64: small, seedable, reproducible.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let garbage: [JSONValue] = [
        .null, true, false, 0, -1, 99_999_999, .number(JSONNumber(literal: "1e308")), .number(JSONNumber(literal: "-0.000001")),
        .number(JSONNumber(literal: "123456789012345678901234567890")), "", "last", "facts:train", "acts", "é😀", "steering_sweep",
        .array([]), .array([1, "x"]), .object([]), .object(["range": .array([0, 1, 0])]), .object(["range": .array([0, 1_000_000_000, 1])]),
        .object(["range": .array([0, .number(JSONNumber(literal: "1e18")), .number(JSONNumber(literal: "1e-18"))])]),
    ]

    static func randomValue(_ rng: inout Random) -> JSONValue { garbage.randomElement(using: &rng)! }

    /// Applies one structural mutation at a random node.
    static func mutate(_ v: JSONValue, _ rng: inout Random, depth: Int = 0) -> JSONValue {
        let stop = Int.random(in: 0..<4, using: &rng) == 0 || depth > 6
        switch v.content {
        case .object(var members) where !members.isEmpty:
            let i = Int.random(in: 0..<members.count, using: &rng)
            if stop {
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: members.remove(at: i)
                case 1: members[i].value = randomValue(&rng)
                case 2: members.append(JSONMember(key: ["layer", "stagez", "params", "kind", "id", "inputs", "range", "x"].randomElement(using: &rng)!, value: randomValue(&rng)))
                case 3: members[i].key += "s"
                default: members[i].value = .array([members[i].value, members[i].value])
                }
                return .object(members)
            }
            members[i].value = mutate(members[i].value, &rng, depth: depth + 1)
            return .object(members)
        case .array(var items) where !items.isEmpty:
            let i = Int.random(in: 0..<items.count, using: &rng)
            if stop {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: items.remove(at: i)
                case 1: items[i] = randomValue(&rng)
                case 2: items.append(items[i])   // duplicate (e.g. a stage with the same id)
                default: items.swapAt(i, Int.random(in: 0..<items.count, using: &rng))
                }
                return .array(items)
            }
            items[i] = mutate(items[i], &rng, depth: depth + 1)
            return .array(items)
        default:
            return randomValue(&rng)
        }
    }

    /// Applies one textual mutation.
    static func mutateText(_ text: String, _ rng: inout Random) -> [UInt8] {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return bytes }
        let i = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: bytes = Array(bytes[..<i])                                          // truncate
        case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)          // random byte (maybe invalid UTF-8)
        case 2: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...20, using: &rng)))
        case 3: bytes.insert(contentsOf: Array(["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u12", "1e", "-"].randomElement(using: &rng)!.utf8), at: i)
        default: bytes[i] = Array("{}[],:\"0a-.eE \n".utf8).randomElement(using: &rng)!
        }
        return bytes
    }

    /// Decodes; true when accepted. Rejections must carry at least one complete error.
    @discardableResult
    static func check(_ bytes: [UInt8]) -> Bool {
        do {
            _ = try Manifest.decode(Data(bytes), baseDirectory: URL(fileURLWithPath: "/nonexistent"), options: Samples.noFiles)
            return true
        } catch {
            #expect(!error.errors.isEmpty)
            for e in error.errors { #expect(!e.description.isEmpty && !e.expected.isEmpty) }
            return false
        }
    }

    @Test func structuralMutationsNeverCrash() throws {
        let base = try JSONParser.parse(Samples.full)
        var rng = Random(state: 20240917)
        var accepted = 0, rejected = 0
        for _ in 0..<1000 {
            var v = base
            for _ in 0..<Int.random(in: 1...3, using: &rng) { v = Self.mutate(v, &rng) }
            if Self.check(Array(CanonicalJSON.encode(v).utf8)) { accepted += 1 } else { rejected += 1 }
        }
        // The mutations are varied enough to produce both outcomes.
        #expect(accepted > 10 && rejected > 300, "accepted \(accepted), rejected \(rejected)")
    }

    @Test func textualMutationsNeverCrash() {
        var rng = Random(state: 7)
        for _ in 0..<1000 {
            var text = Samples.full
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes = Self.mutateText(text, &rng)
                text = String(decoding: bytes, as: UTF8.self)
            }
            Self.check(bytes)
        }
    }

    @Test func pathologicalInputsNeverCrash() {
        let cases: [String] = [
            String(repeating: "[", count: 10_000),
            String(repeating: "{\"a\":", count: 10_000),
            "{\"name\": \"x\", \"stages\": [" + String(repeating: "{\"id\": \"a\", \"kind\": \"report\", \"inputs\": {\"from\": \"a\"}},", count: 300) + "{}]}",
            "{\"name\": \"x\", \"stages\": [{\"id\": \"s\", \"kind\": \"steering_sweep\", \"params\": {\"layers\": {\"range\": [0, 100000, 1]}, \"multipliers\": {\"range\": [0, 10000, 1]}}}]}",
            "{\"name\": \"x\", \"stages\": [{\"id\": \"s\", \"kind\": \"steering_sweep\", \"params\": {\"layers\": {\"range\": [0, 9000, 1]}, \"multipliers\": {\"range\": [0, 9000, 1]}}}]}",
            "\u{FEFF}{}", "\u{0}", "null", "[]", "\"\\ud800\"",
        ]
        for c in cases { Self.check(Array(c.utf8)) }
    }
}
