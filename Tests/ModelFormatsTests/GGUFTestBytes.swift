import Foundation

/// Builds GGUF files byte by byte for tests, independently of `GGUFWriter`.
struct GGUFTestBytes {
    var data = Data()

    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func f16(_ v: Float) { u16(Float16(v).bitPattern) }
    mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); data.append(contentsOf: Array(s.utf8)) }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    mutating func pad(to alignment: Int) { while data.count % alignment != 0 { data.append(0) } }

    /// Header: magic, version, tensor count, metadata count.
    mutating func header(version: UInt32 = 3, tensors: Int, kvs: Int) {
        bytes(Array("GGUF".utf8))
        u32(version)
        u64(UInt64(tensors))
        u64(UInt64(kvs))
    }

    mutating func kvString(_ key: String, _ value: String) { str(key); u32(8); str(value) }
    mutating func kvU32(_ key: String, _ value: UInt32) { str(key); u32(4); u32(value) }

    mutating func tensorInfo(_ name: String, shape: [Int], type: UInt32, offset: Int) {
        str(name)
        u32(UInt32(shape.count))
        for d in shape { u64(UInt64(d)) }
        u32(type)
        u64(UInt64(offset))
    }

    func write(to url: URL) throws { try data.write(to: url) }
}

/// A temporary file path, deleted with its directory by `cleanUp`.
struct GGUFTempFile {
    let directory: URL
    let url: URL
    init(_ name: String = "test.gguf") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("reptune-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        url = directory.appendingPathComponent(name)
    }
    func cleanUp() { try? FileManager.default.removeItem(at: directory) }
}
