import Foundation
import Testing
import Pipeline

@Suite("JSON parsing and canonical form")
struct JSONTests {
    @Test func parsesAllValueKindsWithLocations() throws {
        let v = try JSONParser.parse("{\n  \"a\": [1, -2.50, 3e2],\n  \"b\": {\"c\": null, \"d\": true},\n  \"é\": \"x\\u00e9\\ud83d\\ude00\\n\"\n}")
        #expect(v["a"]?.arrayValue?.count == 3)
        #expect(v["a"]?.location == SourceLocation(line: 2, column: 8))
        #expect(v["a"]?.arrayValue?[1].numberValue?.canonical == "-2.5")
        #expect(v["a"]?.arrayValue?[2].intValue == 300)
        #expect(v["b"]?["d"]?.boolValue == true)
        #expect(v["b"]?["c"]?.isNull == true)
        #expect(v["é"]?.stringValue == "xé😀\n")
        // Columns count Unicode scalars, not bytes: the value after "é": starts at column 8.
        #expect(v["é"]?.location == SourceLocation(line: 4, column: 8))
    }

    @Test(arguments: [
        ("{\"a\": 1,}", 1, 9, "trailing comma"),
        ("{\"a\" 1}", 1, 6, "expected ':' after key \"a\""),
        ("[1, 2\n  3]", 2, 3, "expected ',' or ']'"),
        ("{'a': 1}", 1, 2, "expected a double-quoted object key"),
        ("{\"a\": tru}", 1, 7, "expected 'true'"),
        ("{\"a\": 01}", 1, 8, "leading zeros"),
        ("{\"a\": \"x\ny\"}", 1, 9, "control character"),
        ("{\"a\": 1, \"a\": 2}", 1, 10, "duplicate key \"a\""),
        ("{\"a\": [1, 2}", 1, 12, "expected ',' or ']'"),
        ("", 1, 1, "the text is empty"),
        ("{\"a\": \"\\q\"}", 1, 9, "invalid escape"),
        ("{\"a\": 1} x", 1, 10, "expected end of text"),
        ("{\"a\": \"unterminated", 1, 20, "unterminated string"),
    ] as [(String, Int, Int, String)])
    func syntaxErrorsNameLineAndColumn(text: String, line: Int, column: Int, message: String) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("parsed invalid JSON \(text)")
        } catch {
            #expect(error.location == SourceLocation(line: line, column: column), "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
    }

    @Test func canonicalFormSortsKeysAndNormalisesNumbers() throws {
        let a = try JSONParser.parse("{\"b\": [1.50, 1e-5, 2E+2, -0.0], \"a\": \"q\\\"\\u0001\"}")
        #expect(CanonicalJSON.encode(a) == "{\"a\":\"q\\\"\\u0001\",\"b\":[1.5,0.00001,200,0]}")
        let b = try JSONParser.parse("{\"a\": \"q\\\"\\u0001\", \"b\": [15e-1, 0.00001, 200, 0]}")
        #expect(a == b)
        #expect(try JSONParser.parse("[1]") != JSONParser.parse("[2]"))
    }

    @Test func exactDecimalsParseAndPrint() {
        #expect(ExactDecimal(literal: "0.1")?.description == "0.1")
        #expect(ExactDecimal(literal: "-12.500e-3")?.description == "-0.0125")
        #expect(ExactDecimal(literal: "1e-30")?.description == "1e-30")
        #expect(ExactDecimal(literal: "1.5e30")?.description == "1.5e30")
        #expect(ExactDecimal(literal: "100")?.intValue == 100)
        #expect(ExactDecimal(literal: "12345678901234567890") == nil)  // too many digits to hold exactly
        #expect(ExactDecimal(literal: "1000000000000000000000000")?.description == "1e24")
        #expect(ExactDecimal(literal: "0.30") == ExactDecimal(significand: 3, exponent: -1))
    }

    @Test func progressionsAreExact() throws {
        let lo = try #require(ExactDecimal(literal: "-1")), hi = try #require(ExactDecimal(literal: "1"))
        let step = try #require(ExactDecimal(literal: "0.1"))
        let values = try #require(ExactDecimal.progression(from: lo, to: hi, step: step, limit: 1000))
        #expect(values.count == 21)
        #expect(values.map(\.description)[7...13] == ["-0.3", "-0.2", "-0.1", "0", "0.1", "0.2", "0.3"])
        // Inclusive only when the steps land on hi: 0, 0.3, 0.6, 0.9.
        let partial = try #require(ExactDecimal.progression(from: ExactDecimal(0), to: ExactDecimal(1),
                                                            step: ExactDecimal(significand: 3, exponent: -1), limit: 1000))
        #expect(partial.map(\.description) == ["0", "0.3", "0.6", "0.9"])
        // Descending with a negative step; wrong direction gives nothing.
        #expect(ExactDecimal.progression(from: ExactDecimal(5), to: ExactDecimal(1), step: ExactDecimal(-2), limit: 10)?.map(\.description) == ["5", "3", "1"])
        #expect(ExactDecimal.progression(from: ExactDecimal(5), to: ExactDecimal(1), step: ExactDecimal(2), limit: 10) == [])
    }

    @Test func pathsPrintLikeCode() {
        let p = JSONPath.root + "stages" + 3 + "params" + "layers" + 1
        #expect(p.description == "stages[3].params.layers[1]")
        #expect(JSONPath("stages[3].params.layers[1]") == p)
        #expect((JSONPath.root + "$schema").description == "[\"$schema\"]")
        #expect(JSONPath.root.description == "$")
    }

    @Test func nearMissSuggestions() {
        #expect(NearMiss.distance("kitten", "sitting") == 3)
        #expect(NearMiss.closest(to: "layer", in: ["layers", "dataset"]) == "layers")
        #expect(NearMiss.closest(to: "steering-sweep", in: ["steering_sweep", "tune"]) == "steering_sweep")
        #expect(NearMiss.closest(to: "xyz", in: ["layers", "dataset"]) == nil)
    }
}
