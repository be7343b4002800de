import Pipeline
import Testing

@Test func parsesNestedDocumentKeepingKeyOrder() throws {
    let v = try JSONParser().parse(#"{"b": [1, 2.5, -3e2, true, null], "a": {"s": "x\"\u00e9\ud83d\ude00"}}"#)
    #expect(v == ["b": [1, 2.5, -300, true, nil], "a": ["s": "x\"é😀"]])
    #expect(v.objectMembers?.map(\.key) == ["b", "a"])
}

@Test func syntaxErrorNamesLineAndColumn() {
    let text = "{\n  \"a\": 1,\n  \"b\": 2 x\n}"
    #expect(throws: JSONSyntaxError(file: "manifest.json", line: 3, column: 10, expected: "',' or '}'", found: "'x'")) {
        try JSONParser().parse(text)
    }
    do {
        _ = try JSONParser().parse(text)
    } catch {
        #expect(error.description == "manifest.json:3:10: expected ',' or '}' but found 'x'")
    }
}

@Test func syntaxErrorsForCommonMistakes() {
    func message(_ text: String) -> String {
        do { _ = try JSONParser().parse(text); return "ok" } catch { return error.description }
    }
    #expect(message("") == "manifest.json:1:1: expected a value but found end of input")
    #expect(message("[1,]") == "manifest.json:1:4: expected a value but found ']'")
    #expect(message("{\"a\":1,\"a\":2}") == "manifest.json:1:8: expected a key not used before in this object (duplicate \"a\") but found '\"'")
    #expect(message("01") == "manifest.json:1:2: expected end of input but found '1'")
    #expect(message("\"abc") == "manifest.json:1:5: expected '\"' closing the string but found end of input")
    #expect(message("1e999") == "manifest.json:1:1: expected a number within the range of a double but found '1'")
    #expect(message(String(repeating: "[", count: 1000)).contains("levels of nesting"))
}

@Test func canonicalTextSortsKeysAndPrintsShortestNumbers() {
    let v: JSONValue = ["b": [0.3, 20, 1e-5, -0.0], "a": "q\n"]
    #expect(JSONText.canonical(v) == #"{"a":"q\n","b":[0.3,20,1e-5,0]}"#)
    #expect(JSONText.number(1.5e300) == "1.5e300")
}
