import Foundation
import Pipeline

/// Random mutations of manifests, for the fuzz suites (the decoder's own and the command line's): structural ones
/// on the parsed JSON (remove, replace with garbage, add a stray key, rename, duplicate) and textual ones on the
/// bytes (truncate, insert a random byte or a JSON token, delete, replace). Deterministic from the generator's seed.
public enum ManifestMutations {
    public static let garbage: [JSONValue] = [
        .null, true, false, 0, -1, 99_999_999, .number(JSONNumber(literal: "1e308")), .number(JSONNumber(literal: "-0.000001")),
        .number(JSONNumber(literal: "123456789012345678901234567890")), "", "last", "facts:train", "acts", "é😀", "steering_sweep",
        .array([]), .array([1, "x"]), .object([]), .object(["range": .array([0, 1, 0])]), .object(["range": .array([0, 1_000_000_000, 1])]),
        .object(["range": .array([0, .number(JSONNumber(literal: "1e18")), .number(JSONNumber(literal: "1e-18"))])]),
        99, 1_000_000_000, -100_000, "/dev/zero", "../nowhere.csv",
    ]

    public static func randomValue(_ rng: inout SplitMix) -> JSONValue { garbage.randomElement(using: &rng)! }

    /// Applies one structural mutation at a random node.
    public static func mutate(_ v: JSONValue, _ rng: inout SplitMix, depth: Int = 0) -> JSONValue {
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
    public static func mutateText(_ text: String, _ rng: inout SplitMix) -> [UInt8] {
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

}
