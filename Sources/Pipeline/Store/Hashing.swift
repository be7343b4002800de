import Foundation
import ModelFormats

/// The one place the pipeline computes SHA-256 (cache keys, artifacts, file digests).
enum Hashing {
    static func sha256Hex(_ data: Data) -> String { SHA256.hex(of: data) }
    static func sha256Hex(_ text: String) -> String { SHA256.hex(ofUTF8: text) }
    static func sha256Hex(fileAt url: URL) throws -> String { try SHA256.hex(ofFileAt: url) }
}
