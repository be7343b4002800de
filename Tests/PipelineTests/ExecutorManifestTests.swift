import Foundation
import Pipeline
import Testing
import TestSupport

/// The manifest's `executor.slurm` object: decoded into the options `--executor slurm` submits with (the command
/// line's `--slurm-*` over it), every bad field an error naming its JSON path, and a unit name parsed and split as the
/// coordinator hands units out.
struct ExecutorManifestTests {
    static func manifest(_ executor: String) -> String {
        """
        {"name": "x", "model": "m.gguf", "executor": \(executor),
         "stages": [{"id": "p", "kind": "perplexity", "params": {"dataset": "w"}}], "datasets": {"w": "w.txt"}}
        """
    }

    static let options = ManifestOptions(checkFiles: false, requireModel: false)

    @Test func slurmOptionsDecodeAndTheCommandLineOverridesThem() throws {
        let m = try Manifest.decode(Self.manifest("""
            {"slurm": {"partition": "gpu", "time": "2:00:00", "mem": "8G", "cpus_per_task": 4, "account": "lab", "extra": ["--qos=debug"]}}
            """), options: Self.options)
        let slurm = try #require(m.slurm)
        #expect(slurm == SlurmOptions(partition: "gpu", time: "2:00:00", mem: "8G", cpusPerTask: 4, account: "lab", extra: ["--qos=debug"]))
        let merged = slurm.overriding(with: SlurmOptions(partition: "local", extra: ["--nice=5"]))
        #expect(merged.partition == "local" && merged.time == "2:00:00" && merged.extra == ["--qos=debug", "--nice=5"])
        #expect(try Manifest.decode(Self.manifest("{}"), options: Self.options).slurm == nil)
    }

    @Test func badSlurmFieldsNameTheirJSONPath() throws {
        #expect {
            try Manifest.decode(Self.manifest("""
                {"slurm": {"partitoin": "gpu", "cpus_per_task": 0, "mem": "8 G", "extra": "--qos=debug"}, "pbs": {}}
                """), options: Self.options)
        } throws: { error in
            let text = "\(error)"
            return text.contains("executor.slurm.partitoin") && text.contains("did you mean \"partition\"")
                && text.contains("executor.slurm.cpus_per_task") && text.contains("an integer from 1 to 4096")
                && text.contains("executor.slurm.mem") && text.contains("without spaces")
                && text.contains("executor.slurm.extra") && text.contains("array of non-empty strings")
                && text.contains("executor.pbs")
        }
    }

    @Test func unitsAreNamedByStageKeyAndCells() throws {
        let key = String(repeating: "0123456789abcdef", count: 4)
        let unit = try WorkUnit(parsing: "\(key):0-3,7,9-10", allCells: [])
        #expect(unit.cells == [0, 1, 2, 3, 7, 9, 10] && unit.cellList == "0-3,7,9-10")
        #expect(try WorkUnit(parsing: key, allCells: [4, 5]).cells == [4, 5])
        #expect { try WorkUnit(parsing: "\(key):3-1", allCells: []) } throws: { "\($0)".contains("is not a list of indices") }
        #expect { try WorkUnit(parsing: "XYZ", allCells: []) } throws: { "\($0)".contains("64 lowercase hex digits") }
        let parts = WorkUnit.split(stageKey: key, cells: Array(0..<10), parts: 3)
        #expect(parts.map(\.cellList) == ["0-3", "4-7", "8-9"])
    }
}
