import Experiments
import Testing

@Suite struct CSVTableTests {
    @Test func quotedFieldsWithCommasQuotesAndNewlines() throws {
        let text = "a,b,c\r\n\"x, y\",\"he said \"\"hi\"\"\",\"line1\nline2\"\r\nplain,,last\n"
        let table = try CSVTable(text: text, source: "t.csv")
        #expect(table.header == ["a", "b", "c"])
        #expect(table.rows == [["x, y", "he said \"hi\"", "line1\nline2"], ["plain", "", "last"]])
        #expect(table.rowLines == [2, 4])
    }

    @Test func byteOrderMarkAndMissingFinalNewlineAndBlankLines() throws {
        let table = try CSVTable(text: "\u{FEFF}k,v\n\n1,2\n3,\"4\"", source: "t.csv")
        #expect(table.header == ["k", "v"])
        #expect(table.rows == [["1", "2"], ["3", "4"]])
        #expect(try table.column("v") == ["2", "4"])
    }

    @Test func emptyQuotedFieldIsAField() throws {
        let table = try CSVTable(text: "a\n\"\"\n", source: "t.csv")
        #expect(table.rows == [[""]])
    }

    @Test func unterminatedQuoteNamesTheStartLine() {
        do {
            _ = try CSVTable(text: "a,b\n1,2\n3,\"never\nclosed\n", source: "bad.csv")
            Issue.record("expected an error")
        } catch let error as CSVError {
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("bad.csv:3:"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func wrongFieldCountNamesTheLine() {
        #expect(throws: CSVError(source: "bad.csv", line: 3, message: "expected 2 fields (as in the header), found 3")) {
            try CSVTable(text: "a,b\n1,2\n1,2,3\n", source: "bad.csv")
        }
    }

    @Test func textAfterClosingQuoteIsAnError() {
        #expect(throws: CSVError.self) { try CSVTable(text: "a,b\n\"x\"y,2\n", source: "bad.csv") }
        #expect(throws: CSVError.self) { try CSVTable(text: "a,b\nx\"y,2\n", source: "bad.csv") }
    }

    @Test func missingColumnIsAClearError() throws {
        let table = try CSVTable(text: "a,b\n1,2\n", source: "t.csv")
        #expect(throws: CSVError.self) { try table.column("statement") }
    }
}
