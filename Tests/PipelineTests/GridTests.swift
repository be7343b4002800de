import Pipeline
import Testing

@Test func integerRangeIsInclusive() throws {
    let values = try Grid.expand(["range": [-20, 20, 5]]).get()
    #expect(values == [-20, -15, -10, -5, 0, 5, 10, 15, 20])
}

@Test func decimalRangeIsExact() throws {
    let values = try Grid.expand(["range": [0, 1, 0.1]]).get()
    #expect(values.count == 11)
    #expect(values.map(JSONText.number) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"])
    #expect(values[3] == 0.3)
    #expect(try Grid.expand(["range": [1, 0, -0.25]]).get() == [1, 0.75, 0.5, 0.25, 0])
    #expect(try Grid.expand(["range": [1e-5, 3e-5, 1e-5]]).get() == [1e-5, 2e-5, 3e-5])
    #expect(try Grid.expand(["range": [2, 2, 1]]).get() == [2])
}

@Test func listGridKeepsOrder() throws {
    #expect(try Grid.expand([3, 1, 2.5]).get() == [3, 1, 2.5])
    #expect(throws: ManifestFailure.invalid([ManifestError(path: "grid[0]", expected: "an integer", found: "2.5")])) {
        try Grid.expand([2.5], integer: true).get()
    }
}

@Test func sweepCellsAreTheCartesianProductInTableOrder() throws {
    let m = try Manifest.parse(validManifestText)
    let cells = m.sweepCells("sweep")
    #expect(cells.count == 10)
    #expect(cells.first == SweepCell(["layers": 6, "multipliers": -2]))
    #expect(cells[1] == SweepCell(["layers": 6, "multipliers": -1]))
    #expect(cells.last == SweepCell(["layers": 8, "multipliers": 2]))
    #expect(m.sweepCells("acts").map { $0.coordinates["layers"] } == [4, 8, 12, 16, 20])
    #expect(m.sweepCells("grade") == [SweepCell([:])])
    #expect(m.sweepCells("nope") == [])
}

@Test func dagOrdersStagesAndFindsDependants() throws {
    let m = try Manifest.parse(validManifestText)
    let dag = m.dag
    #expect(dag.order == ["acts", "vec", "sweep", "tuned", "eval", "grade", "ppl", "summary"])
    #expect(dag.dependants(of: "tuned") == ["eval", "grade", "ppl", "summary"])
    #expect(dag.dependants(of: "summary") == [])
    #expect(dag.dependencies(of: "summary") == ["grade", "ppl", "sweep"])
    let reversed = DAG(stages: [
        StageSpec(id: "c", kind: .report, inputs: ["x": "b"]),
        StageSpec(id: "b", kind: .report, inputs: ["x": "a"]),
        StageSpec(id: "a", kind: .report),
        StageSpec(id: "z", kind: .report),
    ])
    #expect(reversed.order == ["a", "b", "c", "z"])
    #expect(reversed.dependants(of: "a") == ["b", "c"])
    let cyclic = DAG(stages: [StageSpec(id: "p", kind: .report, inputs: ["x": "q"]), StageSpec(id: "q", kind: .report, inputs: ["x": "p"])])
    #expect(cyclic.order == ["p", "q"])
}
