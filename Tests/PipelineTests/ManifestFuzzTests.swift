import Foundation
import Testing
import Pipeline
import TestSupport

/// Property: whatever is done to a valid manifest, decoding returns a manifest or a non-empty list of errors,
/// each with a path and a message — it never traps or hangs.
@Suite("Manifest decoder fuzzing")
struct ManifestFuzzTests {
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
        var rng = SplitMix(state: 20240917)
        var accepted = 0, rejected = 0
        for _ in 0..<1000 {
            var v = base
            for _ in 0..<Int.random(in: 1...3, using: &rng) { v = ManifestMutations.mutate(v, &rng) }
            if Self.check(Array(CanonicalJSON.encode(v).utf8)) { accepted += 1 } else { rejected += 1 }
        }
        // The mutations are varied enough to produce both outcomes.
        #expect(accepted > 10 && rejected > 300, "accepted \(accepted), rejected \(rejected)")
    }

    @Test func textualMutationsNeverCrash() {
        var rng = SplitMix(state: 7)
        for _ in 0..<1000 {
            var text = Samples.full
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes = ManifestMutations.mutateText(text, &rng)
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
